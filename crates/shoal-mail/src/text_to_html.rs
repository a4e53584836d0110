//! Plain text to HTML, for the HTML alternative of outgoing replies.

/// Escapes `text` and lays it out as paragraphs (at blank lines) with line
/// breaks, in a complete UTF-8 HTML document.
pub(crate) fn text_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !lines.is_empty() {
                paragraphs.push(format!("<p>{}</p>", lines.join("<br>\n")));
                lines.clear();
            }
        } else {
            lines.push(escape_line(line));
        }
    }
    if !lines.is_empty() {
        paragraphs.push(format!("<p>{}</p>", lines.join("<br>\n")));
    }
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n</head>\n<body>\n{}\n</body>\n</html>\n",
        paragraphs.join("\n")
    )
}

/// Escapes markup characters, and keeps leading indentation, which HTML
/// would otherwise collapse.
fn escape_line(line: &str) -> String {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let mut out = "&nbsp;".repeat(
        line[..indent]
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum(),
    );
    for c in line[indent..].chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> String {
        let html = text_to_html(text);
        let start = html.find("<body>\n").unwrap() + "<body>\n".len();
        let end = html.find("\n</body>").unwrap();
        html[start..end].to_string()
    }

    #[test]
    fn paragraphs_and_line_breaks() {
        assert_eq!(
            body("Hi Jane,\n\nline one\nline two\n\n\n-- \nAna"),
            "<p>Hi Jane,</p>\n<p>line one<br>\nline two</p>\n<p>-- <br>\nAna</p>"
        );
        assert_eq!(body("a\r\nb"), "<p>a<br>\nb</p>");
        assert_eq!(body(""), "");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            body("<script>alert(\"x\")</script> & 'y'"),
            "<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</p>"
        );
    }

    #[test]
    fn keeps_indentation() {
        assert_eq!(
            body("  indented\n\tTab"),
            "<p>&nbsp;&nbsp;indented<br>\n&nbsp;&nbsp;&nbsp;&nbsp;Tab</p>"
        );
    }

    #[test]
    fn declares_utf8() {
        assert!(text_to_html("é").contains("<meta charset=\"utf-8\">"));
    }
}
