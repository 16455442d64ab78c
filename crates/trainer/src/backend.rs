//! Backends chosen at run time: `flex` (default), `ndarray` and `wgpu`; `cuda`, `vulkan` and
//! `metal` when the binary is built with the cargo feature of the same name.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

/// Burn's device: where a model and its tensors live.
pub use burn::tensor::Device;
use burn::tensor::DeviceKind;

use crate::error::{Error, Result};

/// Where cubecl keeps its autotune cache: the root its own configuration names (a `cubecl.toml`,
/// else `target/environment` of the outermost Cargo project above the working directory, else the
/// user cache directory's `cubecl`).
fn autotune_cache_dir() -> PathBuf {
    CubeClRuntimeConfig::get().environment.path.root()
}

/// A Burn backend this binary can train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (multi-threaded, SIMD): the fastest CPU backend measured here.
    Flex,
    /// The older ndarray CPU backend (deprecated in Burn 0.22, kept for comparison).
    Ndarray,
    /// wgpu: Vulkan, Metal, DirectX or OpenGL; a software Vulkan driver works without a GPU.
    Wgpu,
    /// NVIDIA GPUs through CUDA (cargo feature `cuda`).
    #[cfg(feature = "cuda")]
    Cuda,
    /// wgpu pinned to Vulkan with SPIR-V kernels (cargo feature `vulkan`).
    #[cfg(feature = "vulkan")]
    Vulkan,
    /// wgpu pinned to Metal with native MSL kernels (cargo feature `metal`).
    #[cfg(feature = "metal")]
    Metal,
}

/// Backends that exist only in binaries built with a cargo feature, and that feature.
const OPTIONAL: [&str; 3] = ["cuda", "vulkan", "metal"];

impl Backend {
    /// The backends every build has, in the order they are listed to users.
    pub const ALL: [Backend; 3] = [Backend::Flex, Backend::Ndarray, Backend::Wgpu];

    /// Every backend of this build: [`Backend::ALL`] plus those of enabled cargo features.
    pub fn all() -> Vec<Backend> {
        #[allow(unused_mut)]
        let mut all = Backend::ALL.to_vec();
        #[cfg(feature = "cuda")]
        all.push(Backend::Cuda);
        #[cfg(feature = "vulkan")]
        all.push(Backend::Vulkan);
        #[cfg(feature = "metal")]
        all.push(Backend::Metal);
        all
    }

    /// Whether tensors live in host memory (the CPU backends).
    pub fn is_host(self) -> bool {
        matches!(self, Backend::Flex | Backend::Ndarray)
    }

    /// The backend's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "cuda")]
            Backend::Cuda => "cuda",
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => "vulkan",
            #[cfg(feature = "metal")]
            Backend::Metal => "metal",
        }
    }

    /// Opens the backend's device, checking first that wgpu has an adapter so that a
    /// missing GPU is an error rather than a panic on a device thread.
    pub fn device(self) -> Result<Device> {
        Ok(match self {
            Backend::Flex => Device::flex(),
            #[allow(deprecated)]
            Backend::Ndarray => Device::ndarray(),
            Backend::Wgpu => {
                wgpu_adapter()?;
                Device::wgpu(DeviceKind::DefaultDevice)
            }
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(0),
            #[cfg(feature = "vulkan")]
            Backend::Vulkan => {
                wgpu_adapter()?;
                Device::vulkan(DeviceKind::DefaultDevice)
            }
            #[cfg(feature = "metal")]
            Backend::Metal => {
                wgpu_adapter()?;
                Device::metal(DeviceKind::DefaultDevice)
            }
        })
    }

    /// A start-up line for the GPU backends: their kernels compile and autotune on first use.
    pub fn startup_note(self) -> Option<String> {
        if self.is_host() {
            return None;
        }
        let level = std::env::var("CUBECL_AUTOTUNE_LEVEL").unwrap_or_else(|_| "balanced".into());
        Some(format!(
            "{}: kernels compile and autotune (level {level}) on first use, so the first epoch is \
             slow; the tuning is cached on disk (by default in {}) for later runs, and \
             CUBECL_AUTOTUNE_LEVEL=minimal shortens it for short runs",
            self.name(),
            autotune_cache_dir().display()
        ))
    }

    /// What the device is, for logs: the wgpu adapter and driver, or the CPU backend's name.
    pub fn describe(self) -> String {
        match self {
            Backend::Flex => format!(
                "flex on CPU ({})",
                crate::wording::count(cpu_threads(), "thread")
            ),
            Backend::Ndarray => format!(
                "ndarray on CPU ({})",
                crate::wording::count(cpu_threads(), "thread")
            ),
            #[cfg(feature = "cuda")]
            Backend::Cuda => "cuda on GPU 0".to_string(),
            wgpu_based => match wgpu_adapter() {
                Ok(info) => format!(
                    "{} on {} ({:?}, {:?}, driver {} {})",
                    wgpu_based.name(),
                    info.name,
                    info.device_type,
                    info.backend,
                    info.driver,
                    info.driver_info
                ),
                Err(e) => format!("{}: {e}", wgpu_based.name()),
            },
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a name is not a backend of this build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// A backend of an optional cargo feature (of the same name) this build lacks.
    #[error("backend '{0}' is not built into this binary (it is the cargo feature '{0}')")]
    NotBuilt(String),
    /// No backend has this name.
    #[error("unknown backend '{name}': choose one of {}", known.join(", "))]
    Unknown {
        /// The name given.
        name: String,
        /// The backends of this build.
        known: Vec<&'static str>,
    },
}

impl FromStr for Backend {
    type Err = BackendError;

    fn from_str(s: &str) -> std::result::Result<Self, BackendError> {
        let name = s.to_ascii_lowercase();
        if let Some(b) = Backend::all().into_iter().find(|b| b.name() == name) {
            return Ok(b);
        }
        if OPTIONAL.contains(&name.as_str()) {
            return Err(BackendError::NotBuilt(name));
        }
        let known = Backend::all().iter().map(|b| b.name()).collect();
        Err(BackendError::Unknown {
            name: s.to_string(),
            known,
        })
    }
}

/// The threads of rayon's global pool, which Burn's CPU backends work on (`RAYON_NUM_THREADS`,
/// else one per core).
fn cpu_threads() -> usize {
    crate::cpu::build_thread_pool();
    rayon::current_num_threads()
}

/// The adapter wgpu would pick (high performance first) among Vulkan, Metal and DirectX 12, or an
/// error saying none exists. OpenGL is left out on purpose: with no Vulkan driver, wgpu falls back
/// to Mesa's GL, where Burn's kernels were measured to deadlock after minutes instead of failing.
fn wgpu_adapter() -> Result<wgpu::AdapterInfo> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: wgpu::Backends::PRIMARY,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }));
    adapter.map(|a| a.get_info()).map_err(|e| Error::NoAdapter {
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gpu_startup_note_names_the_directory_cubecl_caches_in() {
        // Cargo runs unit tests in the package's directory, two levels under the workspace root,
        // so cubecl keeps its autotune cache in the workspace's `target/environment`.
        let package = std::env::current_dir().unwrap();
        let root = package.parent().and_then(|crates| crates.parent()).unwrap();
        let cache = root.join("target").join("environment");
        let note = Backend::Wgpu.startup_note().unwrap();
        assert!(
            note.contains(&format!("(by default in {})", cache.display())),
            "{note}"
        );
        assert_eq!(Backend::Flex.startup_note(), None);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_explained() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>().unwrap(), b);
        }
        let unknown = "tpu".parse::<Backend>().unwrap_err().to_string();
        assert!(unknown.contains("unknown backend 'tpu'"), "{unknown}");
        #[cfg(not(feature = "cuda"))]
        assert_eq!(
            "cuda".parse::<Backend>().unwrap_err(),
            BackendError::NotBuilt("cuda".into())
        );
    }
}
