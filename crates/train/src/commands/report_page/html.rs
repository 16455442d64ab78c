//! A page (the report's, the sweeps') as one HTML file: its Markdown rendered (pulldown-cmark)
//! inside a page that loads only the PNG files beside it.

use maud::{DOCTYPE, PreEscaped, html};
use pulldown_cmark::{Options, Parser, html::push_html};

const STYLE: &str = concat!(
    "body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\n",
    "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n",
    "th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:left;vertical-align:top}\n",
    "th{background:#f3f3f3}\nfigure{display:inline-block;margin:0.5em;vertical-align:top;max-width:100%}\n",
    "figure img{max-width:100%;border:1px solid #ddd}\nfigcaption{font-size:0.85em;color:#555;max-width:600px}\n",
    "code{background:#f6f6f6;padding:0 0.2em}\ndetails{margin:0.3em 0}\n",
    ".cell{display:inline-block;vertical-align:top;width:49%;min-width:360px;overflow-x:auto}\n"
);

/// Lets a headless browser check that every figure loaded: the body gets
/// `data-images="<loaded>/<total>"` once the page has finished loading.
const IMAGES_LOADED: &str = concat!(
    "window.addEventListener('load',()=>{const i=[...document.images];",
    "document.body.dataset.images=i.filter(x=>x.complete&&x.naturalWidth>0).length+'/'+i.length;});"
);

/// `markdown` (a page, its title first) as a self-contained HTML page titled `title`.
pub fn render(title: &str, markdown: &str) -> String {
    let mut body = String::new();
    push_html(&mut body, Parser::new_ext(markdown, Options::ENABLE_TABLES));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (PreEscaped(body))
                script { (PreEscaped(IMAGES_LOADED)) }
            }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn markdown_text_is_escaped_and_raw_details_pass_through() {
        let md = "# Title\n\n| a |\n|---|\n| Case <7> is best |\n\n<details><summary>Per seed</summary>\n\n- seed 0\n\n</details>\n";
        let html = super::render("Title", md);
        assert!(html.contains("Case &lt;7&gt; is best"), "{html}");
        assert!(
            html.contains("<details><summary>Per seed</summary>"),
            "{html}"
        );
        assert!(
            html.contains("<table>") && html.contains("<h1>Title</h1>"),
            "{html}"
        );
    }
}
