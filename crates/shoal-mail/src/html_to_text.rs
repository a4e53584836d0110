//! HTML to plain text, for mail that has no text/plain alternative.
//!
//! The output is text, never markup: tags are dropped, entities decoded, and
//! the content of `script`, `style`, `title`, `template` and `xml` (Outlook's
//! Office settings) elements and of comments never appears. Block elements
//! break lines, list items get a `- ` bullet, `hr` becomes Outlook's
//! `____` separator and each line inside a `blockquote` starts with `> `, so
//! that quoted-reply trimming works on HTML-only mail as on plain text.
//! Links to web and mail addresses keep their target after the text.

use mail_parser::decoders::html::add_html_token;

/// Elements whose content is not text and is skipped whole, up to the
/// matching end tag (or the end of the input when it is missing).
const SKIPPED_ELEMENTS: &[&str] = &["script", "style", "title", "template", "xml"];

/// Elements that start and end a line.
const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "caption",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "li",
    "main",
    "nav",
    "ol",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

/// Elements set off by a blank line.
const PARAGRAPH_ELEMENTS: &[&str] = &["p", "h1", "h2", "h3", "h4", "h5", "h6"];

/// What `hr` becomes: the separator Outlook writes above a quoted message.
const RULE: &str = "________________________________";

/// Converts HTML to plain text for display.
pub fn html_to_text(html: &str) -> String {
    let mut out = Writer::new();
    let mut pos = 0;
    while pos < html.len() {
        let rest = &html[pos..];
        if rest.starts_with('<') {
            match markup(html, pos, &mut out) {
                Some(end) => pos = end,
                None => {
                    out.text("<");
                    out.after_literal_lt = true;
                    pos += 1;
                }
            }
        } else if rest.starts_with('&') {
            let (decoded, len) = entity(rest);
            out.text(&decoded);
            pos += len;
        } else {
            let len = rest.find(['<', '&']).unwrap_or(rest.len());
            out.text(&rest[..len]);
            pos += len;
        }
    }
    out.finish()
}

/// Handles the markup starting at `html[pos] == '<'` and returns where it
/// ends, or `None` when the `<` is ordinary text (as in `a < b`).
fn markup(html: &str, pos: usize, out: &mut Writer) -> Option<usize> {
    let rest = &html[pos..];
    if let Some(comment) = rest.strip_prefix("<!--") {
        return Some(comment.find("-->").map_or(html.len(), |e| pos + 4 + e + 3));
    }
    if rest.starts_with("<!") || rest.starts_with("<?") {
        return Some(rest.find('>').map_or(html.len(), |e| pos + e + 1));
    }
    let closing = rest[1..].starts_with('/');
    let name_start = if closing { 2 } else { 1 };
    if !rest[name_start..].starts_with(|c: char| c.is_ascii_alphabetic()) {
        // `</` without a name is a bogus comment to browsers, up to `>`.
        return closing.then(|| rest.find('>').map_or(html.len(), |e| pos + e + 1));
    }
    let name_len = rest[name_start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-'))
        .unwrap_or(rest.len() - name_start);
    let name = rest[name_start..name_start + name_len].to_ascii_lowercase();
    let attrs_start = name_start + name_len;
    let (attrs, tag_end) = match tag_close(&rest[attrs_start..]) {
        Some(gt) => (
            &rest[attrs_start..attrs_start + gt],
            pos + attrs_start + gt + 1,
        ),
        // An unterminated tag swallows the rest, as in browsers: nothing of
        // it may show as text.
        None => (&rest[attrs_start..], html.len()),
    };
    if !closing && SKIPPED_ELEMENTS.contains(&name.as_str()) {
        let after = &html[tag_end..];
        return Some(match find_ignore_case(after, &format!("</{name}")) {
            Some(end_tag) => after[end_tag..]
                .find('>')
                .map_or(html.len(), |gt| tag_end + end_tag + gt + 1),
            None => html.len(),
        });
    }
    out.tag(&name, closing, attrs);
    Some(tag_end)
}

/// Position of the `>` that ends a tag, skipping quoted attribute values.
fn tag_close(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// Decodes the entity at the start of `s` (which starts with `&`); returns
/// the text and how many bytes it used. An unknown entity stays as written.
fn entity(s: &str) -> (String, usize) {
    let body = &s[1..];
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
        .unwrap_or(body.len());
    if name_len > 0 && name_len <= 32 && body[name_len..].starts_with(';') {
        let token = &s[..name_len + 2];
        let mut decoded = String::new();
        add_html_token(&mut decoded, token.as_bytes(), false);
        return (decoded, token.len());
    }
    // Old HTML accepted the most common entities without the semicolon.
    for (name, c) in [
        ("nbsp", '\u{a0}'),
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
    ] {
        if body.starts_with(name) {
            return (c.to_string(), 1 + name.len());
        }
    }
    ("&".to_string(), 1)
}

/// The value of attribute `wanted` in a tag's attribute text, entities
/// decoded.
fn attribute(attrs: &str, wanted: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        rest = rest[name_len..].trim_start();
        let mut value = "";
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, used) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    (&inner[..end], (end + 2).min(after.len()))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], end)
                }
            };
            value = v;
            rest = &after[used..];
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(html_to_text(value));
        }
    }
}

/// Builds the text, collapsing whitespace as a browser would.
struct Writer {
    out: String,
    /// Whitespace was seen since the last character written.
    space: bool,
    /// Line breaks owed before the next character.
    breaks: usize,
    at_line_start: bool,
    quote_depth: usize,
    pre_depth: usize,
    /// Open lists: `None` for bullets, `Some(next number)` for `ol`.
    lists: Vec<Option<usize>>,
    /// An open link's target and where its text starts in `out`.
    link: Option<(String, usize)>,
    /// The last character written is a `<` that was text in the input.
    after_literal_lt: bool,
}

impl Writer {
    fn new() -> Self {
        Writer {
            out: String::new(),
            space: false,
            breaks: 0,
            at_line_start: true,
            quote_depth: 0,
            pre_depth: 0,
            lists: Vec::new(),
            link: None,
            after_literal_lt: false,
        }
    }

    fn text(&mut self, s: &str) {
        for c in s.chars() {
            if self.pre_depth > 0 && (c == '\n' || c == ' ' || c == '\t') {
                if c == '\n' {
                    self.breaks += 1;
                } else {
                    self.flush();
                    self.out.push(c);
                }
            } else if c == '\u{a0}' {
                // A non-breaking space is kept, however many there are.
                self.flush();
                self.out.push(' ');
            } else if c.is_whitespace() {
                self.space = true;
            } else if !c.is_control() {
                self.flush();
                // `a<<b>c` must not come out as `a<c`, which reads as a tag.
                if self.after_literal_lt
                    && self.out.ends_with('<')
                    && (c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
                {
                    self.out.push(' ');
                }
                self.after_literal_lt = false;
                self.out.push(c);
            }
        }
    }

    /// Writes owed line breaks, the quote prefix or a collapsed space.
    fn flush(&mut self) {
        if self.breaks > 0 {
            if !self.out.is_empty() {
                self.out.extend(std::iter::repeat_n('\n', self.breaks));
            }
            self.breaks = 0;
            self.at_line_start = true;
        }
        if self.at_line_start {
            for _ in 0..self.quote_depth {
                self.out.push_str("> ");
            }
            self.at_line_start = false;
        } else if self.space {
            self.out.push(' ');
        }
        self.space = false;
    }

    fn line_break(&mut self, count: usize) {
        self.breaks = self.breaks.max(count);
    }

    fn tag(&mut self, name: &str, closing: bool, attrs: &str) {
        match name {
            "br" => self.breaks += 1,
            "blockquote" => {
                self.line_break(1);
                if closing {
                    self.quote_depth = self.quote_depth.saturating_sub(1);
                } else {
                    self.quote_depth += 1;
                }
            }
            "hr" => {
                self.line_break(1);
                self.flush();
                self.out.push_str(RULE);
                self.line_break(1);
            }
            "td" | "th" => self.space = true,
            "a" => self.link(closing, attrs),
            _ if PARAGRAPH_ELEMENTS.contains(&name) => self.line_break(2),
            _ if BLOCK_ELEMENTS.contains(&name) => {
                self.line_break(1);
                match (name, closing) {
                    ("pre", false) => self.pre_depth += 1,
                    ("pre", true) => self.pre_depth = self.pre_depth.saturating_sub(1),
                    ("ul", false) => self.lists.push(None),
                    ("ol", false) => self.lists.push(Some(1)),
                    ("ul" | "ol", true) => {
                        self.lists.pop();
                    }
                    ("li", false) => self.bullet(),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn bullet(&mut self) {
        let marker = match self.lists.last_mut() {
            Some(Some(n)) => {
                *n += 1;
                format!("{}. ", *n - 1)
            }
            _ => "- ".to_string(),
        };
        self.flush();
        self.out.push_str(&marker);
    }

    fn link(&mut self, closing: bool, attrs: &str) {
        if !closing {
            self.link = attribute(attrs, "href")
                .map(|href| {
                    href.chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                })
                .filter(|href| {
                    let lower = href.to_ascii_lowercase();
                    ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|scheme| lower.starts_with(scheme))
                })
                .map(|href| (href, self.out.len()));
            return;
        }
        let Some((href, start)) = self.link.take() else {
            return;
        };
        let label = self.out.get(start..).unwrap_or_default().trim();
        let target = href.strip_prefix("mailto:").unwrap_or(&href);
        // Spell the target out only when the text does not already show it.
        if !label.is_empty() && !label.contains(target) {
            self.text(" (");
            self.text(target);
            self.text(")");
        }
    }

    /// Trims line ends and keeps at most one blank line in a row.
    fn finish(self) -> String {
        let mut text = String::with_capacity(self.out.len());
        let mut blank_run = 0;
        for line in self.out.lines() {
            let line = line.trim_end();
            let blank = line.trim_start_matches(['>', ' ']).is_empty();
            blank_run = if blank { blank_run + 1 } else { 0 };
            if blank_run > 1 || (blank && text.is_empty()) {
                continue;
            }
            text.push_str(line);
            text.push('\n');
        }
        text.trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks() {
        assert_eq!(html_to_text("<p>Hello</p><p>World</p>"), "Hello\n\nWorld");
        assert_eq!(
            html_to_text("Hello<br>World<br/><br />!"),
            "Hello\nWorld\n\n!"
        );
        assert_eq!(html_to_text("<div>a</div><div>b</div>"), "a\nb");
        assert_eq!(html_to_text("  lots   of\n\n  space  "), "lots of space");
        assert_eq!(html_to_text("<p>a</p>\n\n<p></p><p></p><p>b</p>"), "a\n\nb");
    }

    #[test]
    fn script_style_and_comments_never_show() {
        let html = "<html><head><title>T</title><style>p{color:red}</style>\
            <script>alert('<p>x</p>')</script></head><body><!-- secret -->\
            <p>Visible</p><SCRIPT type=\"text/javascript\">document.write(1)</SCRIPT>\
            <xml><o:OfficeDocumentSettings>96</o:OfficeDocumentSettings></xml>\
            <template><p>t</p></template>end</body></html>";
        assert_eq!(html_to_text(html), "Visible\n\nend");
        assert_eq!(html_to_text("a<script>never closed"), "a");
        assert_eq!(html_to_text("a<!-- never closed"), "a");
        assert_eq!(html_to_text("a<style"), "a");
    }

    #[test]
    fn no_tags_remain() {
        let text = html_to_text(
            "<div class=\"x\" title='a>b'>in<b>side</b><img src=x onerror=alert(1)></div><span",
        );
        assert_eq!(text, "inside");
        assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(html_to_text("a</0 b>c</"), "ac");
        assert_eq!(html_to_text("<<b>x"), "< x");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html_to_text("Fish &amp; chips &lt;3 &eacute;t&#233; &#x1F600; &nbsp;x"),
            "Fish & chips <3 été 😀  x"
        );
        assert_eq!(html_to_text("&unknown; &amp &copy;"), "&unknown; & ©");
        assert_eq!(html_to_text("a&#0;b"), "ab");
    }

    #[test]
    fn blockquotes_are_marked() {
        let html = "<div>Thanks!</div><div class=\"gmail_quote\">On Mon, Jane wrote:<br>\
            <blockquote><p>Hello</p><p>World</p><blockquote>deeper</blockquote></blockquote></div>";
        assert_eq!(
            html_to_text(html),
            "Thanks!\nOn Mon, Jane wrote:\n\n> Hello\n\n> World\n\n> > deeper"
        );
    }

    #[test]
    fn lists_tables_rules_pre() {
        assert_eq!(html_to_text("<ul><li>a</li><li>b</li></ul>"), "- a\n- b");
        assert_eq!(html_to_text("<ol><li>a<li>b</ol>"), "1. a\n2. b");
        assert_eq!(
            html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a b\nc"
        );
        assert_eq!(html_to_text("a<hr>b"), format!("a\n{RULE}\nb"));
        assert_eq!(html_to_text("<pre>x  y\n  z</pre>"), "x  y\n  z");
    }

    #[test]
    fn links_keep_their_target() {
        assert_eq!(
            html_to_text("See <a href=\"https://example.com/a?b=1&amp;c=2\">the docs</a>."),
            "See the docs (https://example.com/a?b=1&c=2)."
        );
        assert_eq!(
            html_to_text("<a href='https://example.com'>https://example.com</a>"),
            "https://example.com"
        );
        assert_eq!(
            html_to_text("<a href=mailto:jane@example.com>jane@example.com</a>"),
            "jane@example.com"
        );
        assert_eq!(
            html_to_text("<a href=\"javascript:alert(1)\">click</a>"),
            "click"
        );
        assert_eq!(
            html_to_text("<a href=\"https://x.example\"><img src=logo></a>"),
            ""
        );
    }

    #[test]
    fn attributes() {
        assert_eq!(
            attribute(" class=a href=\"x y\"", "href").as_deref(),
            Some("x y")
        );
        assert_eq!(attribute(" HREF='x'", "href").as_deref(), Some("x"));
        assert_eq!(attribute(" disabled href", "href").as_deref(), Some(""));
        assert_eq!(attribute(" = \" href", "href"), None);
        assert_eq!(attribute("", "href"), None);
    }
}
