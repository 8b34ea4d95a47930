//! The `${...}` references inside spec strings.

/// One piece of a spec string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    /// The text between `${` and `}`, with its character offset in the string.
    Ref {
        body: String,
        offset: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// Splits a string into text and references. `$${` stands for a literal `${`.
pub(crate) fn split(s: &str) -> Result<Vec<Piece>, TemplateError> {
    let chars: Vec<char> = s.chars().collect();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' && chars.get(i + 1) == Some(&'$') && chars.get(i + 2) == Some(&'{') {
            text.push_str("${");
            i += 3;
        } else if chars[i] == '$' && chars.get(i + 1) == Some(&'{') {
            let start = i;
            // The `}` that closes it: braces of a mapping inside, and any brace inside a
            // quoted text, do not.
            let mut depth = 0usize;
            let mut quoted = false;
            let mut close = None;
            let mut j = i + 2;
            while j < chars.len() {
                match chars[j] {
                    '\\' if quoted => j += 1,
                    '"' => quoted = !quoted,
                    '{' if !quoted => depth += 1,
                    '}' if !quoted && depth == 0 => {
                        close = Some(j);
                        break;
                    }
                    '}' if !quoted => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            let Some(close) = close else {
                return Err(TemplateError { offset: start, message: "`${` is never closed with `}`".into() });
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            let body: String = chars[i + 2..close].iter().collect::<String>().trim().to_string();
            pieces.push(Piece::Ref { body, offset: start });
            i = close + 1;
        } else {
            text.push(chars[i]);
            i += 1;
        }
    }
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_refs() {
        let p = split("a-${var.x}-$${b}").unwrap();
        assert_eq!(
            p,
            vec![Piece::Text("a-".into()), Piece::Ref { body: "var.x".into(), offset: 2 }, Piece::Text("-${b}".into())]
        );
        assert!(split("x ${vpc.main").is_err());
        let nested = split("${f({ a = \"}\" })}!").unwrap();
        assert_eq!(nested[0], Piece::Ref { body: "f({ a = \"}\" })".into(), offset: 0 });
        assert_eq!(nested[1], Piece::Text("!".into()));
        assert_eq!(split("").unwrap(), vec![Piece::Text(String::new())]);
    }
}
