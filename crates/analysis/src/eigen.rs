//! Eigendecomposition of a real symmetric matrix: Householder reduction to tridiagonal form,
//! then the implicit QL method (the EISPACK `tred2` / `tql2` pair, as in JAMA).

/// Eigenvalues and eigenvectors of a symmetric matrix, largest eigenvalue first.
#[derive(Debug, Clone)]
pub struct SymmetricEigen {
    /// Order of the matrix.
    pub n: usize,
    /// Eigenvalues, in descending order.
    pub values: Vec<f64>,
    /// Unit eigenvectors, one row of `n` per eigenvalue, in the same order.
    pub vectors: Vec<Vec<f64>>,
}

/// Decomposes the symmetric `n × n` matrix `a` (row-major; only symmetric input is meaningful).
///
/// # Panics
/// If `a` does not hold `n * n` values.
pub fn symmetric_eigen(a: &[f64], n: usize) -> SymmetricEigen {
    assert_eq!(
        a.len(),
        n * n,
        "symmetric_eigen: expected an {n}×{n} matrix"
    );
    if n == 0 {
        return SymmetricEigen {
            n,
            values: Vec::new(),
            vectors: Vec::new(),
        };
    }
    let mut v = Matrix {
        n,
        data: a.to_vec(),
    };
    let mut d = vec![0.0; n];
    let mut e = vec![0.0; n];
    tred2(&mut v, &mut d, &mut e);
    tql2(&mut v, &mut d, &mut e);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[j].total_cmp(&d[i]));
    SymmetricEigen {
        n,
        values: order.iter().map(|&j| d[j]).collect(),
        vectors: order
            .iter()
            .map(|&j| (0..n).map(|k| v.at(k, j)).collect())
            .collect(),
    }
}

/// A square row-major matrix.
struct Matrix {
    n: usize,
    data: Vec<f64>,
}

impl Matrix {
    fn at(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.n + col]
    }

    fn at_mut(&mut self, row: usize, col: usize) -> &mut f64 {
        &mut self.data[row * self.n + col]
    }
}

/// Householder reduction to tridiagonal form: on return `d` is the diagonal, `e` the
/// sub-diagonal (in `e[1..]`) and `v` the accumulated orthogonal transformation.
fn tred2(v: &mut Matrix, d: &mut [f64], e: &mut [f64]) {
    let n = v.n;
    for j in 0..n {
        d[j] = v.at(n - 1, j);
    }
    for i in (1..n).rev() {
        let scale: f64 = d[..i].iter().map(|x| x.abs()).sum();
        let mut h = 0.0;
        if scale == 0.0 {
            e[i] = d[i - 1];
            for j in 0..i {
                d[j] = v.at(i - 1, j);
                *v.at_mut(i, j) = 0.0;
                *v.at_mut(j, i) = 0.0;
            }
        } else {
            for dk in &mut d[..i] {
                *dk /= scale;
                h += *dk * *dk;
            }
            let mut f = d[i - 1];
            let mut g = if f > 0.0 { -h.sqrt() } else { h.sqrt() };
            e[i] = scale * g;
            h -= f * g;
            d[i - 1] = f - g;
            e[..i].fill(0.0);
            for j in 0..i {
                f = d[j];
                *v.at_mut(j, i) = f;
                g = e[j] + v.at(j, j) * f;
                for k in j + 1..i {
                    g += v.at(k, j) * d[k];
                    e[k] += v.at(k, j) * f;
                }
                e[j] = g;
            }
            f = 0.0;
            for j in 0..i {
                e[j] /= h;
                f += e[j] * d[j];
            }
            let hh = f / (h + h);
            for j in 0..i {
                e[j] -= hh * d[j];
            }
            for j in 0..i {
                f = d[j];
                g = e[j];
                for k in j..i {
                    *v.at_mut(k, j) -= f * e[k] + g * d[k];
                }
                d[j] = v.at(i - 1, j);
                *v.at_mut(i, j) = 0.0;
            }
        }
        d[i] = h;
    }
    for i in 0..n - 1 {
        *v.at_mut(n - 1, i) = v.at(i, i);
        *v.at_mut(i, i) = 1.0;
        let h = d[i + 1];
        if h != 0.0 {
            for k in 0..=i {
                d[k] = v.at(k, i + 1) / h;
            }
            for j in 0..=i {
                let g: f64 = (0..=i).map(|k| v.at(k, i + 1) * v.at(k, j)).sum();
                for k in 0..=i {
                    *v.at_mut(k, j) -= g * d[k];
                }
            }
        }
        for k in 0..=i {
            *v.at_mut(k, i + 1) = 0.0;
        }
    }
    for j in 0..n {
        d[j] = v.at(n - 1, j);
        *v.at_mut(n - 1, j) = 0.0;
    }
    *v.at_mut(n - 1, n - 1) = 1.0;
    e[0] = 0.0;
}

/// Implicit QL iterations on the tridiagonal matrix left by [`tred2`]: `d` becomes the
/// eigenvalues and the columns of `v` the eigenvectors.
fn tql2(v: &mut Matrix, d: &mut [f64], e: &mut [f64]) {
    let n = v.n;
    for i in 1..n {
        e[i - 1] = e[i];
    }
    e[n - 1] = 0.0;
    let mut f = 0.0;
    let mut tst1: f64 = 0.0;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n - 1 && e[m].abs() > eps * tst1 {
            m += 1;
        }
        if m > l {
            for _iteration in 0..300 {
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for di in &mut d[l + 2..n] {
                    *di -= h;
                }
                f += h;
                p = d[m];
                let (mut c, mut c2, mut c3) = (1.0, 1.0, 1.0);
                let el1 = e[l + 1];
                let (mut s, mut s2) = (0.0, 0.0);
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for k in 0..n {
                        let row = k * n;
                        let vk1 = v.data[row + i + 1];
                        let vk = v.data[row + i];
                        v.data[row + i + 1] = s * vk + c * vk1;
                        v.data[row + i] = c * vk - s * vk1;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random symmetric matrix.
    fn symmetric(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5
        };
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let x = next();
                a[i * n + j] = x;
                a[j * n + i] = x;
            }
        }
        a
    }

    #[test]
    fn decomposes_a_random_symmetric_matrix() {
        for n in [1, 2, 5, 40] {
            let a = symmetric(n, n as u64);
            let eig = symmetric_eigen(&a, n);
            // A v = λ v for every pair, unit length, orthogonal, sorted descending.
            for (value, vector) in eig.values.iter().zip(&eig.vectors) {
                for i in 0..n {
                    let av: f64 = (0..n).map(|j| a[i * n + j] * vector[j]).sum();
                    assert!((av - value * vector[i]).abs() < 1e-10, "n={n}: A v ≠ λ v");
                }
            }
            for (p, u) in eig.vectors.iter().enumerate() {
                for (q, w) in eig.vectors.iter().enumerate() {
                    let dot: f64 = u.iter().zip(w).map(|(x, y)| x * y).sum();
                    let expected = if p == q { 1.0 } else { 0.0 };
                    assert!((dot - expected).abs() < 1e-10, "n={n}: not orthonormal");
                }
            }
            assert!(eig.values.windows(2).all(|w| w[0] >= w[1]));
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            assert!((eig.values.iter().sum::<f64>() - trace).abs() < 1e-10);
        }
    }

    #[test]
    fn known_two_by_two() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with vectors (1, 1)/√2 and (1, −1)/√2.
        let eig = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((eig.values[0] - 3.0).abs() < 1e-12 && (eig.values[1] - 1.0).abs() < 1e-12);
        let v = &eig.vectors[0];
        assert!((v[0].abs() - 0.5f64.sqrt()).abs() < 1e-12 && (v[0] - v[1]).abs() < 1e-12);
    }

    #[test]
    fn diagonal_and_zero_matrices() {
        let eig = symmetric_eigen(&[1.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0, 3.0], 3);
        assert_eq!(eig.values, vec![5.0, 3.0, 1.0]);
        assert_eq!(
            eig.vectors[0].iter().map(|x| x.abs()).collect::<Vec<_>>(),
            [0.0, 1.0, 0.0]
        );
        let eig = symmetric_eigen(&[0.0; 16], 4);
        assert!(eig.values.iter().all(|&v| v == 0.0));
    }
}
