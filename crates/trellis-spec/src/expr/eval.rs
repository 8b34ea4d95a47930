//! An expression's value, as an [`Expr`]: literals where everything it reads is known
//! when the spec is read, references (and texts built from them) where it reads what
//! only apply will know. Operators and most functions need known values; the ones that
//! only arrange values (`concat`, `element`, `join`, `format`, `templatefile`, `? :` on
//! a known condition) also take references, so a boot script can name the database's
//! endpoint.

use std::collections::BTreeMap;

use trellis_core::{Expr, Part, Value};

use super::functions;
use super::syntax::{Ast, BinOp, UnOp};

/// What an expression reads from outside itself.
pub trait Names {
    /// The value of a name (`var.zones`, `subnet.a.id`); `None` after reporting why not.
    fn name(&mut self, text: &str) -> Option<Expr>;
    /// A file's text, by a path relative to the spec's directory.
    fn read_file(&mut self, path: &str) -> std::result::Result<String, String>;
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// Said already (a name the parser's rules refused).
    Reported,
    /// What is wrong, and a hint.
    Wrong(String, Option<String>),
}

impl EvalError {
    pub(crate) fn new(message: impl Into<String>) -> EvalError {
        EvalError::Wrong(message.into(), None)
    }

    pub(crate) fn hint(message: impl Into<String>, help: impl Into<String>) -> EvalError {
        EvalError::Wrong(message.into(), Some(help.into()))
    }
}

pub type Result<T> = std::result::Result<T, EvalError>;

/// The known value of `e`, when everything in it is known.
pub fn known(e: &Expr) -> Option<Value> {
    let v = e.as_literal()?;
    (!v.has_unknown() && !has_env(e)).then_some(v)
}

fn has_env(e: &Expr) -> bool {
    !e.env_names().is_empty()
}

/// A short description of a value, for messages.
pub fn describe(e: &Expr) -> String {
    match known(e) {
        Some(Value::Str(s)) => format!("the text {}", short(&format!("{s:?}"))),
        Some(Value::Int(i)) => format!("the number {i}"),
        Some(Value::Bool(b)) => format!("`{b}`"),
        Some(Value::Null) => "null".into(),
        Some(Value::List(_)) => "a list".into(),
        Some(Value::Map(_)) => "a mapping".into(),
        _ => match e {
            Expr::Ref(r) => format!("`{r}`, known only after apply"),
            Expr::List(_) | Expr::Set(_) => "a list".into(),
            Expr::Map(_) => "a mapping".into(),
            _ => "a value known only after apply".into(),
        },
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(39).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The items of a list, as expressions (a known list's values, or a list of references).
pub fn items(e: &Expr) -> Option<Vec<Expr>> {
    match e {
        Expr::List(items) | Expr::Set(items) => Some(items.clone()),
        Expr::Lit(Value::List(items)) => Some(items.iter().cloned().map(Expr::Lit).collect()),
        _ => None,
    }
}

/// The entries of a mapping, as expressions.
pub fn entries(e: &Expr) -> Option<BTreeMap<String, Expr>> {
    match e {
        Expr::Map(m) => Some(m.clone()),
        Expr::Lit(Value::Map(m)) => Some(m.iter().map(|(k, v)| (k.clone(), Expr::Lit(v.clone()))).collect()),
        _ => None,
    }
}

/// A value as text, where it becomes part of one: known scalars as written,
/// references as they are.
pub fn text_parts(e: &Expr) -> Option<Vec<Part>> {
    match e {
        Expr::Lit(Value::Str(s)) => Some(vec![Part::Lit(s.clone())]),
        Expr::Lit(Value::Int(i)) => Some(vec![Part::Lit(i.to_string())]),
        Expr::Lit(Value::Bool(b)) => Some(vec![Part::Lit(b.to_string())]),
        Expr::Ref(r) => Some(vec![Part::Ref(r.clone())]),
        Expr::Template(parts) => Some(parts.clone()),
        _ => None,
    }
}

/// Parts joined into one value: a literal text when they hold no reference.
pub fn from_parts(parts: Vec<Part>) -> Expr {
    let mut merged: Vec<Part> = Vec::new();
    for p in parts {
        match (merged.last_mut(), p) {
            (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
            (_, p) => merged.push(p),
        }
    }
    match merged.as_slice() {
        [] => Expr::Lit(Value::str("")),
        [Part::Lit(s)] => Expr::Lit(Value::Str(s.clone())),
        [Part::Ref(r)] => Expr::Ref(r.clone()),
        _ => Expr::Template(merged),
    }
}

/// A number from a known value: an integer, or a text that reads as one (variables
/// hold text).
pub fn number(e: &Expr) -> Option<i64> {
    match known(e)? {
        Value::Int(i) => Some(i),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean from a known value (`true`/`false`, or their text).
pub fn boolean(e: &Expr) -> Option<bool> {
    match known(e)? {
        Value::Bool(b) => Some(b),
        Value::Str(s) if s == "true" => Some(true),
        Value::Str(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Two known values compared as values: numbers whichever way they were written.
fn equal(a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Int(i) => Some(*i),
        Value::Str(s) => s.parse::<i64>().ok(),
        _ => None,
    };
    match (a, b) {
        (Value::Int(_), Value::Str(_)) | (Value::Str(_), Value::Int(_)) => num(a).is_some() && num(a) == num(b),
        (Value::Bool(x), Value::Str(s)) | (Value::Str(s), Value::Bool(x)) => x.to_string() == *s,
        _ => a == b,
    }
}

/// Evaluates `ast`, reading names and files through `names`.
pub fn eval(ast: &Ast, names: &mut dyn Names) -> Result<Expr> {
    match ast {
        Ast::Num(n) => Ok(Expr::Lit(Value::Int(*n))),
        Ast::Str(s) => Ok(Expr::Lit(Value::Str(s.clone()))),
        Ast::Bool(b) => Ok(Expr::Lit(Value::Bool(*b))),
        Ast::Null => Ok(Expr::Lit(Value::Null)),
        Ast::List(items) => {
            let items: Vec<Expr> = items.iter().map(|i| eval(i, names)).collect::<Result<_>>()?;
            Ok(list(items))
        }
        Ast::Map(entries) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                out.insert(k.clone(), eval(v, names)?);
            }
            Ok(map(out))
        }
        Ast::Name(text) => names.name(text).ok_or(EvalError::Reported),
        Ast::Index(base, index) => {
            let base = eval(base, names)?;
            let index = eval(index, names)?;
            pick(&base, &index)
        }
        Ast::Field(base, field) => {
            let base = eval(base, names)?;
            pick(&base, &Expr::Lit(Value::Str(field.clone())))
        }
        Ast::Unary(UnOp::Neg, e) => {
            let v = eval(e, names)?;
            let n = number(&v).ok_or_else(|| EvalError::new(format!("`-` needs a number, found {}", describe(&v))))?;
            Ok(Expr::Lit(Value::Int(-n)))
        }
        Ast::Unary(UnOp::Not, e) => {
            let v = eval(e, names)?;
            let b = boolean(&v)
                .ok_or_else(|| EvalError::new(format!("`!` needs `true` or `false`, found {}", describe(&v))))?;
            Ok(Expr::Lit(Value::Bool(!b)))
        }
        Ast::Binary(op, a, b) => binary(*op, a, b, names),
        Ast::Cond(c, yes, no) => {
            let cond = eval(c, names)?;
            let b = boolean(&cond).ok_or_else(|| {
                EvalError::hint(
                    format!(
                        "the condition of `? :` must be `true` or `false` when the spec is read, found {}",
                        describe(&cond)
                    ),
                    "compare variables, keys or lookups: what apply makes is not known yet",
                )
            })?;
            eval(if b { yes } else { no }, names)
        }
        Ast::Call(name, args) => functions::call(name, args, names),
    }
}

/// A list of values: a literal when every item is known.
pub fn list(items: Vec<Expr>) -> Expr {
    match items.iter().map(known).collect::<Option<Vec<Value>>>() {
        Some(values) => Expr::Lit(Value::List(values)),
        None => Expr::List(items),
    }
}

/// A mapping of values: a literal when every value is known.
pub fn map(entries: BTreeMap<String, Expr>) -> Expr {
    match entries.iter().map(|(k, v)| Some((k.clone(), known(v)?))).collect::<Option<BTreeMap<_, _>>>() {
        Some(values) => Expr::Lit(Value::Map(values)),
        None => Expr::Map(entries),
    }
}

/// `base[index]`: an item of a list or a value of a mapping.
fn pick(base: &Expr, index: &Expr) -> Result<Expr> {
    if let Some(items) = items(base) {
        let i = number(index)
            .ok_or_else(|| EvalError::new(format!("a list's index must be a number, found {}", describe(index))))?;
        return usize::try_from(i)
            .ok()
            .and_then(|i| items.get(i).cloned())
            .ok_or_else(|| EvalError::new(format!("the list has {} items: there is no [{i}]", items.len())));
    }
    if let Some(m) = entries(base) {
        let Some(Value::Str(k)) = known(index) else {
            return Err(EvalError::new(format!("a mapping's key must be a text, found {}", describe(index))));
        };
        return m.get(&k).cloned().ok_or_else(|| {
            let have: Vec<&str> = m.keys().map(String::as_str).collect();
            EvalError::hint(format!("the mapping has no key \"{k}\""), format!("its keys are {}", have.join(", ")))
        });
    }
    if let (Expr::Ref(r), Some(i)) = (base, number(index)) {
        if r.index.is_none() && i >= 0 {
            let mut r = r.clone();
            r.index = Some(i as usize);
            return Ok(Expr::Ref(r));
        }
    }
    Err(EvalError::new(format!("{} cannot be indexed", describe(base))))
}

fn binary(op: BinOp, a: &Ast, b: &Ast, names: &mut dyn Names) -> Result<Expr> {
    // `&&` and `||` read their right side only when it decides.
    if matches!(op, BinOp::And | BinOp::Or) {
        let left = eval(a, names)?;
        let l = boolean(&left).ok_or_else(|| {
            EvalError::new(format!(
                "`{}` needs `true` or `false`, found {}",
                if op == BinOp::And { "&&" } else { "||" },
                describe(&left)
            ))
        })?;
        if (op == BinOp::And && !l) || (op == BinOp::Or && l) {
            return Ok(Expr::Lit(Value::Bool(l)));
        }
        let right = eval(b, names)?;
        let r = boolean(&right)
            .ok_or_else(|| EvalError::new(format!("expected `true` or `false`, found {}", describe(&right))))?;
        return Ok(Expr::Lit(Value::Bool(r)));
    }
    let left = eval(a, names)?;
    let right = eval(b, names)?;
    if matches!(op, BinOp::Eq | BinOp::Ne) {
        let (Some(x), Some(y)) = (known(&left), known(&right)) else {
            return Err(EvalError::hint(
                "`==` and `!=` compare values known when the spec is read",
                "what apply makes (an id, an address) is not known yet",
            ));
        };
        return Ok(Expr::Lit(Value::Bool(equal(&x, &y) == (op == BinOp::Eq))));
    }
    let sym = match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        _ => ">=",
    };
    let want = |e: &Expr| {
        number(e).ok_or_else(|| {
            let hint = if op == BinOp::Add && matches!(known(e), Some(Value::Str(_))) {
                "`+` adds numbers; texts are joined by writing them side by side, `${a}-${b}`, or with `format`"
            } else {
                "arithmetic works on whole numbers known when the spec is read"
            };
            EvalError::hint(format!("`{sym}` needs numbers, found {}", describe(e)), hint)
        })
    };
    let (x, y) = (want(&left)?, want(&right)?);
    let overflow = || EvalError::new(format!("`{x} {sym} {y}` is too large a number"));
    let v = match op {
        BinOp::Add => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
        BinOp::Sub => Value::Int(x.checked_sub(y).ok_or_else(overflow)?),
        BinOp::Mul => Value::Int(x.checked_mul(y).ok_or_else(overflow)?),
        BinOp::Div | BinOp::Rem if y == 0 => return Err(EvalError::new(format!("`{x} {sym} 0` divides by zero"))),
        BinOp::Div => Value::Int(x.checked_div(y).ok_or_else(overflow)?),
        BinOp::Rem => Value::Int(x.checked_rem(y).ok_or_else(overflow)?),
        BinOp::Lt => Value::Bool(x < y),
        BinOp::Le => Value::Bool(x <= y),
        BinOp::Gt => Value::Bool(x > y),
        _ => Value::Bool(x >= y),
    };
    Ok(Expr::Lit(v))
}
