//! Trimming the quoted earlier conversation from a reply, so agents read
//! what the customer wrote this time. The rules are on [`strip_quoted_reply`].

/// Attribution openings and the verb each must contain.
const ATTRIBUTIONS: &[(&str, &str)] = &[
    ("On ", "wrote"),
    ("Am ", "schrieb"),
    ("Le ", "a écrit"),
    ("El ", "escribió"),
    ("Op ", "schreef"),
    ("Il ", "ha scritto"),
    ("Em ", "escreveu"),
    ("Den ", "skrev"),
];

/// Longer lines are prose, not attributions.
const MAX_ATTRIBUTION_CHARS: usize = 300;

/// `-----Original Message-----` between its dashes, lowercased, by language.
const ORIGINAL_MESSAGE: &[&str] = &[
    "original message",
    "ursprüngliche nachricht",
    "message d'origine",
    "mensaje original",
    "oorspronkelijk bericht",
    "messaggio originale",
    "originalmeddelande",
    "mensagem original",
];

/// Lines just above a header block that mark a forward, whose content is
/// what the customer wants read.
const FORWARD_MARKERS: &[&str] = &[
    "forwarded message",
    "begin forwarded message",
    "weitergeleitete nachricht",
    "message transféré",
    "mensaje reenviado",
];

const FROM_LABELS: &[&str] = &["from", "von", "de", "van", "da", "från", "fra"];
const DATE_LABELS: &[&str] = &[
    "sent",
    "date",
    "gesendet",
    "datum",
    "envoyé",
    "enviado",
    "verzonden",
    "inviato",
    "skickat",
    "sendt",
    "data",
    "fecha",
];
const TO_LABELS: &[&str] = &["to", "an", "à", "a", "para", "aan", "till", "til"];
const SUBJECT_LABELS: &[&str] = &[
    "subject",
    "betreff",
    "objet",
    "asunto",
    "onderwerp",
    "oggetto",
    "ämne",
    "emne",
    "assunto",
];
const CC_LABELS: &[&str] = &["cc", "kopie"];

/// How far below `From:` the other header lines are looked for.
const HEADER_BLOCK_LINES: usize = 8;

/// The text with the quoted earlier conversation cut off, or the whole text
/// when there is nothing to cut or cutting would leave nothing.
///
/// The cut is made at the first line that starts the quote, when what
/// follows is quote:
/// - an attribution such as `On <date>, <name> wrote:`, possibly wrapped onto
///   a second line as Gmail does, or a localized form (`Am … schrieb …:`,
///   `Le … a écrit :`, `El … escribió:`, `Op … schreef …:`,
///   `Il … ha scritto:`, `Em … escreveu:`, `Den … skrev …:`), containing a
///   digit or an `@` and followed only by `>` lines or only by unmarked
///   lines (clients that quote without `>`);
/// - `-----Original Message-----` and its translations;
/// - an Outlook header block (`From:` then `Sent:`/`Date:` and
///   `To:`/`Subject:` lines, or their translations), with the
///   `________________________________` separator above it if there is one;
///   not when a "Forwarded message" line introduces it;
/// - a trailing block of `>` lines.
///
/// Inline replies (customer text between `>` lines) are left whole.
/// Signatures are kept.
pub fn strip_quoted_reply(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(cut) = find_cut(&lines) else {
        return text.to_string();
    };
    let kept = lines[..cut].join("\n");
    if kept.trim().is_empty() {
        text.to_string()
    } else {
        kept.trim_end().to_string()
    }
}

fn find_cut(lines: &[&str]) -> Option<usize> {
    let inline = is_inline_reply(lines);
    for i in 0..lines.len() {
        if is_original_message(lines[i]) {
            return Some(i);
        }
        if is_separator(lines[i])
            && next_non_blank(lines, i + 1).is_some_and(|j| is_header_block(lines, j))
        {
            return Some(i);
        }
        if is_header_block(lines, i) && !follows_forward_marker(lines, i) {
            return Some(i);
        }
        if !inline {
            if let Some(len) = attribution_len(lines, i) {
                if rest_is_quote(&lines[i + len..]) {
                    return Some(i);
                }
            }
        }
    }
    if inline {
        None
    } else {
        trailing_quote_start(lines)
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn is_text(line: &str) -> bool {
    !is_blank(line) && !is_quote(line)
}

fn next_non_blank(lines: &[&str], from: usize) -> Option<usize> {
    (from..lines.len()).find(|&j| !is_blank(lines[j]))
}

/// Quote, then the customer's text, then quote again: an inline answer.
fn is_inline_reply(lines: &[&str]) -> bool {
    let Some(first_quote) = lines.iter().position(|l| is_quote(l)) else {
        return false;
    };
    let Some(last_quote) = lines.iter().rposition(|l| is_quote(l)) else {
        return false;
    };
    lines[first_quote..last_quote].iter().any(|l| is_text(l))
}

fn is_original_message(line: &str) -> bool {
    let line = line.trim();
    if !(line.starts_with("--") && line.ends_with("--")) {
        return false;
    }
    let title = line.trim_matches('-').trim().to_lowercase();
    ORIGINAL_MESSAGE.contains(&title.as_str())
}

fn is_separator(line: &str) -> bool {
    let line = line.trim();
    line.chars().count() >= 10 && line.chars().all(|c| c == '_')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Label {
    From,
    Date,
    To,
    Subject,
    Cc,
}

/// The header label a line starts with, as in `From: …`, `*From:* …` (bold
/// turned to text) or `De : …`.
fn label(line: &str) -> Option<Label> {
    let line = line.trim().trim_start_matches('*').trim_start();
    let (name, _) = line.split_once(':')?;
    let name = name.trim().to_lowercase();
    let is = |labels: &[&str]| labels.contains(&name.as_str());
    if is(FROM_LABELS) {
        Some(Label::From)
    } else if is(DATE_LABELS) {
        Some(Label::Date)
    } else if is(TO_LABELS) {
        Some(Label::To)
    } else if is(SUBJECT_LABELS) {
        Some(Label::Subject)
    } else if is(CC_LABELS) {
        Some(Label::Cc)
    } else {
        None
    }
}

/// `From:` at `i`, then (blank lines aside) `Sent:`/`Date:` and
/// `To:`/`Subject:` lines.
fn is_header_block(lines: &[&str], i: usize) -> bool {
    if label(lines[i]) != Some(Label::From) {
        return false;
    }
    let (mut dated, mut addressed) = (false, false);
    for line in lines[i + 1..].iter().take(HEADER_BLOCK_LINES) {
        if is_blank(line) {
            continue;
        }
        match label(line) {
            Some(Label::Date) => dated = true,
            Some(Label::To | Label::Subject) => addressed = true,
            Some(Label::Cc) => {}
            Some(Label::From) | None => break,
        }
    }
    dated && addressed
}

fn follows_forward_marker(lines: &[&str], i: usize) -> bool {
    lines[..i]
        .iter()
        .rev()
        .find(|l| !is_blank(l))
        .is_some_and(|l| {
            let l = l.to_lowercase();
            FORWARD_MARKERS.iter().any(|m| l.contains(m))
        })
}

/// How many lines (1 or 2) the attribution starting at `i` takes, if one
/// does.
fn attribution_len(lines: &[&str], i: usize) -> Option<usize> {
    let first = lines[i].trim();
    if !starts_attribution(first) {
        return None;
    }
    if is_attribution(first) {
        return Some(1);
    }
    let second = lines.get(i + 1)?.trim();
    (!second.is_empty() && is_attribution(&format!("{first} {second}"))).then_some(2)
}

fn starts_attribution(line: &str) -> bool {
    ATTRIBUTIONS.iter().any(|(start, _)| {
        line.get(..start.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(start))
    })
}

fn is_attribution(line: &str) -> bool {
    line.chars().count() <= MAX_ATTRIBUTION_CHARS
        && (line.ends_with(':') || line.ends_with('：'))
        // A date or an address: sets it apart from prose ending in a colon.
        && line.chars().any(|c| c.is_ascii_digit() || c == '@')
        && ATTRIBUTIONS.iter().any(|(start, verb)| {
            line.get(..start.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(start))
                && line.contains(verb)
        })
}

/// After an attribution: only `>` lines, or only unmarked lines.
fn rest_is_quote(rest: &[&str]) -> bool {
    rest.iter().filter(|l| !is_blank(l)).all(|l| is_quote(l)) || !rest.iter().any(|l| is_quote(l))
}

/// Start of the `>` lines that end the text, if any.
fn trailing_quote_start(lines: &[&str]) -> Option<usize> {
    let after_text = lines.iter().rposition(|l| is_text(l)).map_or(0, |i| i + 1);
    (after_text..lines.len()).find(|&i| is_quote(lines[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_trim() {
        assert_eq!(strip_quoted_reply("Hello\n\nThanks"), "Hello\n\nThanks");
        assert_eq!(strip_quoted_reply(""), "");
    }

    #[test]
    fn gmail_attribution() {
        let text = "Thanks, that fixed it.\n\nOn Mon, Mar 4, 2024 at 10:00 AM Northwind Support <support@northwind.example> wrote:\n\n> Hi Jane,\n> try turning it off and on.\n";
        assert_eq!(strip_quoted_reply(text), "Thanks, that fixed it.");
    }

    #[test]
    fn wrapped_gmail_attribution() {
        let text = "Thanks!\n\nOn Mon, Mar 4, 2024 at 10:00 AM Northwind Support <\nsupport@northwind.example> wrote:\n\n> Hi Jane\n";
        assert_eq!(strip_quoted_reply(text), "Thanks!");
    }

    #[test]
    fn localized_attributions() {
        for attribution in [
            "Am Mo., 4. März 2024 um 10:00 Uhr schrieb Support <support@northwind.example>:",
            "Le lun. 4 mars 2024 à 10:00, Support <support@northwind.example> a écrit :",
            "El lun, 4 mar 2024 a las 10:00, Support (<support@northwind.example>) escribió:",
            "Op ma 4 mrt 2024 om 10:00 schreef Support <support@northwind.example>:",
        ] {
            let text = format!("Danke\n\n{attribution}\n> Hallo\n");
            assert_eq!(strip_quoted_reply(&text), "Danke", "{attribution}");
        }
    }

    #[test]
    fn attribution_followed_by_unmarked_quote() {
        let text = "Yes please.\n\nOn 4 March 2024, Support <support@northwind.example> wrote:\nHi Jane,\nshall we call you?\n";
        assert_eq!(strip_quoted_reply(text), "Yes please.");
    }

    #[test]
    fn prose_is_not_an_attribution() {
        let text = "On the other hand, here is what I wrote:\nmy draft\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn original_message() {
        let text = "See below.\n\n-----Original Message-----\nFrom: Support\nHi\n";
        assert_eq!(strip_quoted_reply(text), "See below.");
        let text = "Siehe unten.\n\n----- Ursprüngliche Nachricht -----\nVon: Support\n";
        assert_eq!(strip_quoted_reply(text), "Siehe unten.");
    }

    #[test]
    fn outlook_header_block() {
        let text = "It works now.\n\nFrom: Northwind Support <support@northwind.example>\nSent: Monday, March 4, 2024 10:00 AM\nTo: Jane Doe <jane@example.com>\nSubject: RE: Printer\n\nHi Jane,\n";
        assert_eq!(strip_quoted_reply(text), "It works now.");
        let bold = "Ok\n\n*From:* Support <s@x.example>\n*Sent:* Monday\n*To:* Jane\n";
        assert_eq!(strip_quoted_reply(bold), "Ok");
        let french = "D'accord\n\nDe : Support <s@x.example>\nEnvoyé : lundi\nÀ : Jane\nObjet : Imprimante\n";
        assert_eq!(strip_quoted_reply(french), "D'accord");
    }

    #[test]
    fn outlook_separator() {
        let text = "Done.\n\n________________________________\nFrom: Support <s@x.example>\nSent: Monday\nTo: Jane\nSubject: Printer\n\nHi\n";
        assert_eq!(strip_quoted_reply(text), "Done.");
    }

    #[test]
    fn lone_from_line_is_kept() {
        let text = "From: the accounting team\nWe need the invoice.\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn forwarded_headers_are_kept() {
        let text = "FYI\n\n---------- Forwarded message ---------\nFrom: Bob <bob@x.example>\nDate: Mon, Mar 4, 2024\nSubject: Broken\nTo: Jane\n\nIt broke.\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn trailing_quote_block() {
        let text = "Sounds good.\n\nSent from my iPhone\n\n> On Mar 4, 2024, at 10:00, Support <s@x.example> wrote:\n>\n> Hi\n";
        assert_eq!(
            strip_quoted_reply(text),
            "Sounds good.\n\nSent from my iPhone"
        );
    }

    #[test]
    fn inline_replies_are_kept() {
        let text = "On Mon, Mar 4, 2024 Support <s@x.example> wrote:\n> Which model?\nThe X100.\n> Since when?\nYesterday.\n> Thanks\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn bottom_posting_is_kept() {
        let text =
            "On Mon, Mar 4, 2024 Support <s@x.example> wrote:\n> Which model?\n\nThe X100.\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn never_empties_the_text() {
        let text = "> only a quote\n> nothing else\n";
        assert_eq!(strip_quoted_reply(text), text);
        let text = "On Mon, Mar 4, 2024 Support <s@x.example> wrote:\n> hi\n";
        assert_eq!(strip_quoted_reply(text), text);
    }

    #[test]
    fn signatures_are_kept() {
        let text = "Thanks\n-- \nJane Doe\nACME\n\nOn Mon, Mar 4, 2024 Support <s@x.example> wrote:\n> hi\n";
        assert_eq!(strip_quoted_reply(text), "Thanks\n-- \nJane Doe\nACME");
    }
}
