//! The text inside `${...}` as an expression: literals, names (`var.zones`,
//! `subnet.a.id`, `each.value.port`), arithmetic, comparison, `&&`/`||`/`!`,
//! `cond ? a : b`, indexing and function calls. A name is kept as the text it is
//! written with, so the parser's own reference rules (and their messages) read it.

use std::fmt;

/// One expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ast {
    Num(i64),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Ast>),
    Map(Vec<(String, Ast)>),
    /// A name as written, without spaces: `var.zones`, `subnet.a.id`,
    /// `instance.web[0].id`, `count.index`, `component.web.output.url`.
    Name(String),
    /// `x[i]` on a value that is not a plain name.
    Index(Box<Ast>, Box<Ast>),
    /// `x.field` on a value that is not a plain name.
    Field(Box<Ast>, String),
    Unary(UnOp, Box<Ast>),
    Binary(BinOp, Box<Ast>, Box<Ast>),
    Cond(Box<Ast>, Box<Ast>, Box<Ast>),
    Call(String, Vec<Ast>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Binding strength: higher binds tighter.
    fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
        }
    }
}

/// A problem with the text of an expression, at a character offset inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(i64),
    Str(String),
    Punct(&'static str),
}

const PUNCT: [&str; 25] = [
    "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", "{", "}", ",", ".", "?", ":", "+", "-", "*", "/", "%", "!",
    "<", ">", "=",
];

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            let digits: String = chars[start..i].iter().collect();
            let n = digits
                .parse()
                .map_err(|_| SyntaxError { offset: start, message: format!("`{digits}` is too large a number") })?;
            out.push((Tok::Num(n), start));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-') {
                i += 1;
            }
            // A `-` ends a name when a space or a digit-less operand follows: `a - b` is
            // a subtraction, `us-east-1` one word.
            while i > start + 1 && chars[i - 1] == '-' {
                i -= 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), start));
        } else if c == '"' {
            let start = i;
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(SyntaxError { offset: start, message: "a quoted text is never closed".into() }),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let escaped = match chars.get(i + 1) {
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some('"') => '"',
                            Some('\\') => '\\',
                            other => {
                                return Err(SyntaxError {
                                    offset: i,
                                    message: format!(
                                        "`\\{}` is not an escape: write `\\n`, `\\t`, `\\\"` or `\\\\`",
                                        other.map(|c| c.to_string()).unwrap_or_default()
                                    ),
                                })
                            }
                        };
                        s.push(escaped);
                        i += 2;
                    }
                    Some(&c) => {
                        s.push(c);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(s), start));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(p) = PUNCT.iter().find(|p| rest.starts_with(**p)) else {
                return Err(SyntaxError { offset: i, message: format!("`{c}` has no meaning in an expression") });
            };
            out.push((Tok::Punct(p), i));
            i += p.chars().count();
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
    /// How deep the expression being read is nested: bounded, so that no text makes the
    /// reader recurse past its stack.
    depth: usize,
}

/// The deepest nesting an expression may have.
const MAX_DEPTH: usize = 64;

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map(|(_, o)| *o).unwrap_or(self.end)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError { offset: self.offset(), message: message.into() })
    }

    fn eat(&mut self, p: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Punct(q)) if *q == p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str, what: &str) -> Result<(), SyntaxError> {
        if self.eat(p) {
            Ok(())
        } else {
            self.fail(format!("expected `{p}` {what}"))
        }
    }

    fn expr(&mut self) -> Result<Ast, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("the expression is nested more than {MAX_DEPTH} deep"));
        }
        let out = self.expr_inner();
        self.depth -= 1;
        out
    }

    fn expr_inner(&mut self) -> Result<Ast, SyntaxError> {
        let cond = self.binary(1)?;
        if self.eat("?") {
            let yes = self.expr()?;
            self.expect(":", "between the two values of `cond ? a : b`")?;
            let no = self.expr()?;
            return Ok(Ast::Cond(Box::new(cond), Box::new(yes), Box::new(no)));
        }
        Ok(cond)
    }

    fn binop(&self) -> Option<BinOp> {
        let Some(Tok::Punct(p)) = self.peek() else { return None };
        Some(match *p {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Rem,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&&" => BinOp::And,
            "||" => BinOp::Or,
            _ => return None,
        })
    }

    fn binary(&mut self, min: u8) -> Result<Ast, SyntaxError> {
        let mut left = self.unary()?;
        while let Some(op) = self.binop().filter(|op| op.precedence() >= min) {
            self.pos += 1;
            let right = self.binary(op.precedence() + 1)?;
            left = Ast::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ast, SyntaxError> {
        if self.depth > MAX_DEPTH {
            return self.fail(format!("the expression is nested more than {MAX_DEPTH} deep"));
        }
        if self.eat("-") || self.eat("!") {
            let op = if matches!(self.toks[self.pos - 1].0, Tok::Punct("-")) { UnOp::Neg } else { UnOp::Not };
            self.depth += 1;
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Ast::Unary(op, Box::new(inner?)));
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Ast, SyntaxError> {
        let mut base = self.primary()?;
        loop {
            // `name[*]`: every copy, kept in the name as references write it.
            let splat = matches!(self.toks.get(self.pos + 1), Some((Tok::Punct("*"), _)))
                && matches!(self.toks.get(self.pos + 2), Some((Tok::Punct("]"), _)));
            if let (Ast::Name(n), true, Some(Tok::Punct("["))) = (&base, splat, self.peek()) {
                base = Ast::Name(format!("{n}[*]"));
                self.pos += 3;
                continue;
            }
            if self.eat("[") {
                let index = self.expr()?;
                self.expect("]", "after an index")?;
                base = match (base, index) {
                    // A plain name keeps simple indices in its text, as references write them.
                    (Ast::Name(n), Ast::Num(i)) => Ast::Name(format!("{n}[{i}]")),
                    (Ast::Name(n), Ast::Str(k)) => Ast::Name(format!("{n}[\"{k}\"]")),
                    (Ast::Name(n), Ast::Name(i)) if ["count.index", "each.key"].contains(&i.as_str()) => {
                        Ast::Name(format!("{n}[{i}]"))
                    }
                    (Ast::Name(n), Ast::Unary(UnOp::Neg, _)) => {
                        return self.fail(format!("`{n}` has no negative index"))
                    }
                    (b, i) => Ast::Index(Box::new(b), Box::new(i)),
                };
            } else if self.eat(".") {
                if self.eat("*") {
                    base = match base {
                        Ast::Name(n) => Ast::Name(format!("{n}.*")),
                        _ => return self.fail("`.*` follows a name"),
                    };
                    continue;
                }
                let Some(Tok::Ident(field)) = self.peek().cloned() else {
                    return self.fail("expected a name after `.`");
                };
                self.pos += 1;
                base = match base {
                    Ast::Name(n) => Ast::Name(format!("{n}.{field}")),
                    b => Ast::Field(Box::new(b), field),
                };
            } else {
                return Ok(base);
            }
        }
    }

    fn primary(&mut self) -> Result<Ast, SyntaxError> {
        let Some(tok) = self.peek().cloned() else { return self.fail("expected a value") };
        self.pos += 1;
        match tok {
            Tok::Num(n) => Ok(Ast::Num(n)),
            Tok::Str(s) => Ok(Ast::Str(s)),
            Tok::Ident(id) if id == "true" => Ok(Ast::Bool(true)),
            Tok::Ident(id) if id == "false" => Ok(Ast::Bool(false)),
            Tok::Ident(id) if id == "null" => Ok(Ast::Null),
            Tok::Ident(id) if self.eat("(") => {
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.expr()?);
                        if self.eat(")") {
                            break;
                        }
                        self.expect(",", &format!("between the arguments of `{id}`"))?;
                    }
                }
                Ok(Ast::Call(id, args))
            }
            Tok::Ident(id) => Ok(Ast::Name(id)),
            Tok::Punct("(") => {
                let inner = self.expr()?;
                self.expect(")", "to close `(`")?;
                Ok(inner)
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                if !self.eat("]") {
                    loop {
                        items.push(self.expr()?);
                        if self.eat("]") {
                            break;
                        }
                        self.expect(",", "between a list's items")?;
                    }
                }
                Ok(Ast::List(items))
            }
            Tok::Punct("{") => {
                let mut entries = Vec::new();
                if !self.eat("}") {
                    loop {
                        let key = match self.peek().cloned() {
                            Some(Tok::Ident(k)) | Some(Tok::Str(k)) => k,
                            _ => return self.fail("expected a key: a name or a quoted text"),
                        };
                        self.pos += 1;
                        if !self.eat("=") && !self.eat(":") {
                            return self.fail(format!("expected `:` after the key `{key}`"));
                        }
                        entries.push((key, self.expr()?));
                        if self.eat("}") {
                            break;
                        }
                        self.expect(",", "between a mapping's entries")?;
                    }
                }
                Ok(Ast::Map(entries))
            }
            Tok::Punct(p) => {
                self.pos -= 1;
                self.fail(format!("expected a value, found `{p}`"))
            }
        }
    }
}

/// Reads one expression; the whole text must be it.
pub fn parse(text: &str) -> Result<Ast, SyntaxError> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0, end: text.chars().count(), depth: 0 };
    let ast = p.expr()?;
    if p.pos < p.toks.len() {
        return p.fail("unexpected text after the expression");
    }
    Ok(ast)
}

impl Ast {
    /// True for a name alone: what the parser's reference rules read whole.
    pub fn is_name(&self) -> bool {
        matches!(self, Ast::Name(_))
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Written back fully parenthesised: [`parse`] reads it as the same expression.
impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ast::Num(n) => write!(f, "{n}"),
            Ast::Str(s) => f.write_str(&quote(s)),
            Ast::Bool(b) => write!(f, "{b}"),
            Ast::Null => f.write_str("null"),
            Ast::List(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", items.join(", "))
            }
            Ast::Map(entries) => {
                let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{}: {v}", quote(k))).collect();
                write!(f, "{{{}}}", entries.join(", "))
            }
            Ast::Name(n) => f.write_str(n),
            Ast::Index(b, i) => write!(f, "({b})[{i}]"),
            Ast::Field(b, n) => write!(f, "({b}).{n}"),
            Ast::Unary(UnOp::Neg, e) => write!(f, "-({e})"),
            Ast::Unary(UnOp::Not, e) => write!(f, "!({e})"),
            Ast::Binary(op, a, b) => write!(f, "({a}) {} ({b})", op.symbol()),
            Ast::Cond(c, a, b) => write!(f, "({c}) ? ({a}) : ({b})"),
            Ast::Call(name, args) => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{name}({})", args.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_names_as_references_write_them() {
        assert_eq!(parse("var.zones").unwrap(), Ast::Name("var.zones".into()));
        assert_eq!(parse("instance.web[0].id").unwrap(), Ast::Name("instance.web[0].id".into()));
        assert_eq!(parse("subnet.az[\"a\"]").unwrap(), Ast::Name("subnet.az[\"a\"]".into()));
        assert_eq!(parse("subnet.az[*].id").unwrap(), Ast::Name("subnet.az[*].id".into()));
        assert_eq!(parse("var.zones[count.index]").unwrap(), Ast::Name("var.zones[count.index]".into()));
        assert_eq!(parse("var.region-name").unwrap(), Ast::Name("var.region-name".into()));
    }

    #[test]
    fn operators_bind_as_usual() {
        assert_eq!(parse("1 + 2 * 3").unwrap().to_string(), "(1) + ((2) * (3))");
        assert_eq!(parse("a.b - 1 > 2 && !c.d").unwrap().to_string(), "(((a.b) - (1)) > (2)) && (!(c.d))");
        assert_eq!(parse("x.y ? 1 : 2").unwrap().to_string(), "(x.y) ? (1) : (2)");
        assert_eq!(parse("var.n[count.index + 1]").unwrap().to_string(), "(var.n)[(count.index) + (1)]");
        assert_eq!(parse("max(1, length(var.z))").unwrap().to_string(), "max(1, length(var.z))");
    }

    #[test]
    fn says_where_the_text_goes_wrong() {
        assert_eq!(parse("max(1 2)").unwrap_err().offset, 6);
        assert!(parse("max(1 2)").unwrap_err().message.contains("between the arguments of `max`"));
        assert!(parse("\"open").unwrap_err().message.contains("never closed"));
        assert!(parse("1 +").unwrap_err().message.contains("expected a value"));
        assert!(parse("a ? b").unwrap_err().message.contains("`:`"));
        assert!(parse("a # b").unwrap_err().message.contains("`#` has no meaning"));
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().message.contains("nested more than"));
        assert!(parse(&"-".repeat(10_000)).unwrap_err().message.contains("nested more than"));
        assert!(parse(&format!("{}1", "[".repeat(10_000))).unwrap_err().message.contains("nested more than"));
    }

    fn ast() -> impl Strategy<Value = Ast> {
        let leaf = prop_oneof![
            (0i64..1_000_000).prop_map(Ast::Num),
            "[a-z \\\\\"\\n]{0,8}".prop_map(Ast::Str),
            any::<bool>().prop_map(Ast::Bool),
            Just(Ast::Null),
            "(var|each|subnet)\\.[a-z_]{1,6}".prop_map(Ast::Name),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Ast::List),
                prop::collection::vec(("[a-z]{1,4}", inner.clone()), 0..3).prop_map(Ast::Map),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Ast::Binary(BinOp::Add, Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Ast::Binary(BinOp::Le, Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| Ast::Binary(BinOp::Or, Box::new(a), Box::new(b))),
                inner.clone().prop_map(|a| Ast::Unary(UnOp::Not, Box::new(a))),
                (inner.clone(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| Ast::Cond(
                    Box::new(c),
                    Box::new(a),
                    Box::new(b)
                )),
                ("[a-z]{1,6}", prop::collection::vec(inner.clone(), 0..3)).prop_map(|(n, a)| Ast::Call(n, a)),
                // An index on a name is read into the name (`var.x[0]`): indexed here
                // is anything else.
                (inner.clone(), inner).prop_map(|(a, b)| {
                    let a = if a.is_name() { Ast::Call("f".into(), vec![a]) } else { a };
                    Ast::Index(Box::new(a), Box::new(b))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back(a in ast()) {
            let text = a.to_string();
            prop_assert_eq!(parse(&text).unwrap(), a, "{}", text);
        }
    }
}
