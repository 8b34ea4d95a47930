//! `trellis discover`: the spec and the state of a stack built by hand. The objects of
//! a VPC are found by `trellis-aws` (listing calls), read by id as a refresh reads them,
//! and written as a spec where every id of another discovered object is a reference,
//! with the state that adopts them as they are.
//!
//! Nothing here names a kind: the schema says which attributes the spec sets, their
//! defaults and types (references, nested objects, files, secrets), and the AWS crate
//! says which objects belong to the VPC.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use trellis_aws::{Found, Progress};
use trellis_core::schema::{Attr, Default, Kind, Mode, Type};
use trellis_core::{kinds, Address, Expr, LiveObject, Part, Provider, Ref, RefreshRequest, Value};
use trellis_plan::adopt;
use trellis_spec::emit;
use trellis_state::State;

use crate::session::{connect_aws, load_spec};
use crate::store::{default_state_path, store_for, BackendChoice};
use crate::{Error, Result};

pub struct DiscoverOptions<'a> {
    /// `--vpc`: the VPCs whose objects are wanted.
    pub vpcs: Vec<String>,
    /// `--tag KEY=VALUE`: also every VPC carrying this tag.
    pub tag: Option<(String, String)>,
    pub stack: String,
    /// The directory the spec (and the files it names) is written to.
    pub out: PathBuf,
    pub region: Option<String>,
    pub backend: BackendChoice,
    pub progress: Option<Progress>,
    /// The environment: a secret's variable set now is recorded as its digest.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// What discover wrote.
pub struct Discovery {
    pub spec_path: PathBuf,
    /// Files the spec names (boot scripts, public keys), beside it.
    pub files: Vec<PathBuf>,
    pub vpcs: Vec<String>,
    /// Objects adopted, by kind.
    pub counts: BTreeMap<&'static str, usize>,
    /// The secrets AWS never shows: the variable the spec reads each from, the
    /// attribute, and whether it was set (then its digest is in the state).
    pub secrets: Vec<(String, String, bool)>,
    pub region: String,
    pub calls: usize,
}

pub async fn discover(opts: DiscoverOptions<'_>) -> Result<Discovery> {
    if !trellis_spec::valid_stack_name(&opts.stack) {
        return Err(Error::Usage(format!(
            "discover: `{}` is not a usable stack name: use up to 32 letters, digits and `-`, starting with a letter",
            opts.stack
        )));
    }
    let spec_path = opts.out.join(format!("{}.yaml", opts.stack));
    if spec_path.exists() {
        return Err(Error::Usage(format!(
            "discover: {} exists already; choose another --out or --stack",
            spec_path.display()
        )));
    }
    // The new stack's state must not hold objects already: checked before anything is
    // read or written (the spec discover writes names no backend).
    let store = store_for(opts.region.as_ref(), None, default_state_path(&opts.stack), &opts.backend)?;
    if store.read(&opts.stack)?.is_some_and(|s| !s.resources.is_empty()) {
        return Err(Error::Usage(format!(
            "discover: stack `{}` has a state with objects already; discover writes a new stack's state",
            opts.stack
        )));
    }
    let aws = connect_aws(opts.region.clone(), &opts.backend, Duration::from_secs(600), opts.progress.clone()).await?;
    let aws_err = |e: trellis_core::ProviderError| Error::Aws(format!("discover: AWS {e}"));
    let mut vpcs = opts.vpcs.clone();
    if let Some((k, v)) = &opts.tag {
        vpcs.extend(aws.vpcs_tagged(k, v).await.map_err(aws_err)?);
    }
    vpcs.sort();
    vpcs.dedup();
    if vpcs.is_empty() {
        return Err(Error::Usage(match &opts.tag {
            Some((k, v)) => format!("discover: no VPC carries the tag {k}={v}"),
            None => "discover: give the VPC with --vpc VPC_ID (or --tag KEY=VALUE)".into(),
        }));
    }
    let mut found = Found::new();
    for vpc in &vpcs {
        for (kind, ids) in aws.discover_vpc(vpc).await.map_err(aws_err)? {
            found.entry(kind).or_default().extend(ids);
        }
    }
    let objects = read_all(&aws, &opts.stack, found).await.map_err(aws_err)?;
    let addresses = name_all(&objects);

    // The spec, and the files it names.
    let region = aws.region().to_string();
    let mut text = format!(
        "# Written by `trellis discover` from {} in {region}. Every object here exists\n\
         # already: the state beside this spec adopts them as they are, and the first\n\
         # plan shows only the tags it will add (trellis's own, and a `Name` on objects\n\
         # that have none).\nstack: {}\nregion: {region}\n\nresources:\n",
        vpcs.join(", "),
        opts.stack
    );
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut secrets = Vec::new();
    for ((kind_name, id), object) in ordered(&objects) {
        let kind = kinds::get(kind_name).expect("discovered kinds are known");
        let address = &addresses[&(*kind_name, id.clone())];
        let written = resource(kind, address, object, &objects, &addresses, &opts.stack);
        for (var, attr) in &written.secrets {
            text.push_str(&format!("  # `{attr}`: AWS never shows it; set {var} to it before a plan or apply.\n"));
            secrets.push((var.clone(), format!("{address}.{attr}"), (opts.env)(var).is_some()));
        }
        text.push_str(&written.text);
        files.extend(written.files);
    }
    std::fs::create_dir_all(opts.out.join("files")).map_err(|e| Error::Read(format!("discover: {e}")))?;
    for (path, body) in &files {
        std::fs::write(opts.out.join(path), body).map_err(|e| Error::Read(format!("discover: {e}")))?;
    }
    std::fs::write(&spec_path, &text).map_err(|e| Error::Read(format!("discover: {e}")))?;

    // What was written must load: if not, that is trellis's mistake, said as such.
    let spec = load_spec(&spec_path, &BTreeMap::new()).map_err(|e| match e {
        Error::Spec(d) => Error::Usage(format!(
            "discover wrote a spec that does not load (a trellis bug; please report it):\n{}",
            d.render(false)
        )),
        other => other,
    })?;

    // The state, adopting every object under its address, with the secrets set now.
    let lock = store.lock("discover")?;
    let mut live = Vec::new();
    let mut counts = BTreeMap::new();
    for ((kind_name, id), object) in &objects {
        let address = addresses[&(*kind_name, id.clone())].clone();
        let mut attrs = object.attrs.clone();
        for a in address.kind.object.attrs.iter().filter(|a| a.sensitive) {
            if let Some(value) = (opts.env)(&secret_var(&address, a)) {
                attrs.insert(a.name.to_string(), Value::Str(value));
            }
        }
        *counts.entry(*kind_name).or_default() += 1;
        live.push(LiveObject { address, id: id.clone(), attrs });
    }
    let mut state = State::new(&spec.stack);
    let adoption = adopt(&spec, &mut state, live, None);
    if let Some(r) = adoption.refused.first() {
        return Err(Error::Usage(format!("discover: {} could not be adopted: {}", r.address, r.why)));
    }
    store.write(&lock, &mut state)?;
    Ok(Discovery {
        spec_path,
        files: files.into_iter().map(|(p, _)| opts.out.join(p)).collect(),
        vpcs,
        counts,
        secrets,
        region,
        calls: aws.calls(),
    })
}

type Objects = BTreeMap<(&'static str, String), LiveObject>;
type Addresses = BTreeMap<(&'static str, String), Address>;

/// Reads every found object by id, as a refresh does, then the objects they name that
/// the AWS crate finds only that way (a group's launch template, an instance's key
/// pair and profile, a profile's role), until nothing new is named.
async fn read_all(
    aws: &trellis_aws::Aws,
    stack: &str,
    found: Found,
) -> std::result::Result<Objects, trellis_core::ProviderError> {
    let mut objects = Objects::new();
    let mut pending = found;
    while pending.values().any(|ids| !ids.is_empty()) {
        let mut known = Vec::new();
        let mut kinds_read = Vec::new();
        for (kind_name, ids) in &pending {
            let kind = kinds::get(kind_name).expect("a known kind");
            kinds_read.push(kind);
            for id in ids {
                let address: Address =
                    format!("{kind_name}.d{}", known.len()).parse().expect("a valid temporary address");
                known.push((address, id.clone()));
            }
        }
        let read = aws
            .refresh(RefreshRequest {
                stack: stack.to_string(),
                kinds: kinds_read,
                known: known.clone(),
                by_id_only: true,
            })
            .await?;
        let mut next = Found::new();
        for (address, id) in known {
            let Some(object) = read.found.get(&address) else { continue };
            let kind = address.kind;
            for (other, other_id) in references(kind, &object.attrs) {
                let followed = matches!(trellis_aws::found_by(other), Some(trellis_aws::FoundBy::Reference));
                let known = objects.contains_key(&(other.name, other_id.clone()))
                    || pending.get(other.name).is_some_and(|ids| ids.contains(&other_id));
                if followed && !known && !trellis_aws::owned_by_aws(other, &other_id) {
                    next.entry(other.name).or_default().insert(other_id);
                }
            }
            objects.insert(
                (kind.name, id.clone()),
                LiveObject { address: address.clone(), id, attrs: object.attrs.clone() },
            );
        }
        pending = next;
    }
    Ok(objects)
}

/// The objects an object's attributes name, by the schema's reference types.
fn references(kind: &Kind, attrs: &trellis_core::Attrs) -> Vec<(&'static Kind, String)> {
    fn walk(ty: &Type, v: &Value, out: &mut Vec<(&'static Kind, String)>) {
        match (ty, v) {
            (Type::Ref(k), Value::Str(id)) => {
                if let Some(kind) = kinds::get(k) {
                    out.push((kind, id.clone()));
                }
            }
            (Type::List(t) | Type::Set(t), Value::List(items)) => items.iter().for_each(|i| walk(t, i, out)),
            (Type::Object(o), Value::Map(m)) => {
                for (k, v) in m {
                    if let Some(a) = o.attr(k) {
                        walk(&a.ty, v, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for a in kind.object.attrs.iter().filter(|a| a.settable()) {
        if let Some(v) = attrs.get(a.name) {
            walk(&a.ty, v, &mut out);
        }
    }
    out
}

/// The objects in the order the spec lists them: the schema's order of kinds, then by
/// the name each got.
fn ordered(objects: &Objects) -> Vec<(&(&'static str, String), &LiveObject)> {
    let rank = |k: &str| kinds::ALL.iter().position(|x| x.name == k).unwrap_or(usize::MAX);
    let mut all: Vec<_> = objects.iter().collect();
    all.sort_by_key(|((k, id), _)| (rank(k), (*id).clone()));
    all
}

/// An address for every object: from its `Name` tag, else its AWS name, else the name
/// of the last object it refers to (a listener is its load balancer's, an attachment
/// its instance's), else its id; made a valid name and unique within its kind. Kinds
/// are named in the schema's order, so what an object refers to is named before it.
fn name_all(objects: &Objects) -> Addresses {
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Addresses::new();
    for ((kind_name, id), object) in ordered(objects) {
        let kind = kinds::get(kind_name).expect("a known kind");
        let tag = object.attrs.get("tags").and_then(Value::as_map).and_then(|m| m.get("Name")).and_then(Value::as_str);
        let aws_name = kind.generated_name.and_then(|n| object.attrs.get(n)).and_then(Value::as_str);
        let referred = kind
            .object
            .attrs
            .iter()
            .rev()
            .filter_map(|a| match (&a.ty, object.attrs.get(a.name)) {
                (Type::Ref(k), Some(Value::Str(other))) => out.get(&(kinds::get(k)?.name, other.clone())),
                _ => None,
            })
            .map(|a: &Address| a.name.clone())
            .next();
        let from_id = id.rsplit(['/', ':']).next().unwrap_or(id);
        let base = match (tag, aws_name, &referred) {
            (Some(t), _, _) | (None, Some(t), _) => label(t, kind_name),
            (None, None, Some(r)) => r.clone(),
            (None, None, None) => label(from_id, kind_name),
        };
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(format!("{kind_name}.{name}")) {
            name = format!("{base}_{n}");
            n += 1;
        }
        out.insert((*kind_name, id.clone()), format!("{kind_name}.{name}").parse().expect("a valid address"));
    }
    out
}

/// `My Web-Server` as a resource name: `my_web_server`; one that would not start with
/// a letter starts with the kind's name.
fn label(text: &str, kind: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out,
        _ if out.is_empty() => kind.to_string(),
        _ => format!("{kind}_{out}"),
    }
}

/// One resource as spec text.
struct Written {
    text: String,
    files: Vec<(PathBuf, String)>,
    /// (variable, attribute) of each secret.
    secrets: Vec<(String, String)>,
}

fn resource(
    kind: &'static Kind,
    address: &Address,
    object: &LiveObject,
    objects: &Objects,
    addresses: &Addresses,
    stack: &str,
) -> Written {
    let mut out = Written { text: format!("  {address}:\n"), files: Vec::new(), secrets: Vec::new() };
    let refer = Refer { objects, addresses };
    for a in kind.object.attrs.iter().filter(|a| a.settable() && !a.local && a.file_of.is_none()) {
        if a.sensitive {
            let var = secret_var(address, a);
            emit::entry(&mut out.text, 4, a.name, &Expr::Template(vec![Part::Env(var.clone())]));
            out.secrets.push((var, a.name.to_string()));
            continue;
        }
        let Some(v) = object.attrs.get(a.name).filter(|v| **v != Value::Null) else { continue };
        if a.name == "tags" {
            let mut tags = v.as_map().cloned().unwrap_or_default();
            let default_name = format!("{stack}-{}", address.name);
            if tags.get("Name").and_then(Value::as_str) == Some(default_name.as_str()) {
                tags.remove("Name");
            }
            if !tags.is_empty() {
                emit::entry(&mut out.text, 4, a.name, &Expr::Lit(Value::Map(tags)));
            }
            continue;
        }
        if kind.generated_name != Some(a.name) && is_default(a, v, object, &refer, stack, &address.name) {
            continue;
        }
        // A script or a key goes to a file of its own, named by the file attribute.
        let file_attr = kind.object.attrs.iter().find(|f| f.file_of == Some(a.name));
        if let (Some(file_attr), Some(body)) = (file_attr, v.as_str()) {
            let ext = if a.write_only { "pub" } else { a.name };
            let path = PathBuf::from("files").join(format!("{}-{}.{ext}", kind.name, address.name));
            emit::entry(&mut out.text, 4, file_attr.name, &Expr::Lit(Value::str(path.to_string_lossy().as_ref())));
            out.files.push((path, body.to_string()));
            continue;
        }
        emit::entry(&mut out.text, 4, a.name, &refer.expr(&a.ty, v));
    }
    out
}

/// The variable a secret is read from: `SHOP_DB_MASTER_USER_PASSWORD`.
fn secret_var(address: &Address, attr: &Attr) -> String {
    format!("{}_{}", address.name, attr.name).to_uppercase()
}

/// Whether `v` is what the spec gets by leaving the attribute out.
fn is_default(a: &Attr, v: &Value, object: &LiveObject, refer: &Refer<'_>, stack: &str, name: &str) -> bool {
    if let Default::RefAttr { via, attr } = a.default {
        // The attribute of the object `via` names: a group's template version.
        let target = object.attrs.get(via).and_then(Value::as_str);
        return refer.objects.iter().any(|((_, id), o)| Some(id.as_str()) == target && o.attrs.get(attr) == Some(v));
    }
    match a.default_value(stack, name) {
        Some(d) => &d == v,
        None => a.mode == Mode::Optional && matches!(v, Value::List(l) if l.is_empty()),
    }
}

/// Values as spec expressions: ids of discovered objects become references.
struct Refer<'a> {
    objects: &'a Objects,
    addresses: &'a Addresses,
}

impl Refer<'_> {
    fn expr(&self, ty: &Type, v: &Value) -> Expr {
        match (ty, v) {
            (Type::Ref(k), Value::Str(id)) => {
                match kinds::get(k).and_then(|k| self.addresses.get(&(k.name, id.clone()))) {
                    Some(address) => Expr::Ref(Ref::new(address.clone(), None)),
                    None => Expr::Lit(v.clone()),
                }
            }
            (Type::List(t), Value::List(items)) => Expr::List(items.iter().map(|i| self.expr(t, i)).collect()),
            (Type::Set(t), Value::List(items)) => Expr::Set(items.iter().map(|i| self.expr(t, i)).collect()),
            (Type::Object(o), Value::Map(m)) => Expr::Map(
                m.iter()
                    .filter(|(k, v)| {
                        let attr = o.attr(k);
                        **v != Value::Null && attr.is_none_or(|a| a.default_value("", "").as_ref() != Some(*v))
                    })
                    .map(|(k, v)| (k.clone(), o.attr(k).map_or(Expr::Lit(v.clone()), |a| self.expr(&a.ty, v))))
                    .collect(),
            ),
            _ => Expr::Lit(v.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: &str, id: &str, attrs: &[(&str, Value)]) -> ((&'static str, String), LiveObject) {
        let kind = kinds::get(kind).unwrap();
        let attrs: trellis_core::Attrs = attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let address = format!("{}.d", kind.name).parse().unwrap();
        ((kind.name, id.to_string()), LiveObject { address, id: id.to_string(), attrs })
    }

    fn tags(name: &str) -> Value {
        Value::Map([("Name".to_string(), Value::str(name))].into_iter().collect())
    }

    #[test]
    fn objects_are_named_by_tag_then_aws_name_then_what_they_refer_to_then_id() {
        let lb = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/front/abc";
        let objects: Objects = [
            object("subnet", "subnet-0abc", &[]),
            object("instance", "i-1", &[("tags", tags("Receiver"))]),
            object("instance", "i-2", &[("tags", tags("receiver"))]),
            object("load_balancer", lb, &[("name", Value::str("shop-front"))]),
            object("listener", "arn:listener/1", &[("load_balancer_arn", Value::str(lb))]),
        ]
        .into_iter()
        .collect();
        let names = name_all(&objects);
        let name = |k: &'static str, id: &str| names[&(k, id.to_string())].to_string();
        assert_eq!(name("subnet", "subnet-0abc"), "subnet.subnet_0abc");
        assert_eq!(
            (name("instance", "i-1"), name("instance", "i-2")),
            ("instance.receiver".into(), "instance.receiver_2".into())
        );
        assert_eq!(name("load_balancer", lb), "load_balancer.shop_front");
        assert_eq!(name("listener", "arn:listener/1"), "listener.shop_front");
    }

    #[test]
    fn a_resource_refers_to_what_was_discovered_leaves_defaults_out_and_puts_scripts_in_files() {
        let objects: Objects = [
            object(
                "vpc",
                "vpc-1",
                &[("cidr_block", Value::str("10.0.0.0/16")), ("enable_dns_support", Value::Bool(true))],
            ),
            object("subnet", "subnet-1", &[]),
            object(
                "instance",
                "i-1",
                &[
                    ("subnet_id", Value::str("subnet-1")),
                    ("image_id", Value::str("ami-1")),
                    ("key_name", Value::str("made-elsewhere")),
                    ("user_data", Value::str("#!/bin/sh\necho ${HOME}\n")),
                    ("tags", tags("st-web")),
                ],
            ),
        ]
        .into_iter()
        .collect();
        let names = name_all(&objects);
        let instance = objects.iter().find(|((k, _), _)| *k == "instance").unwrap().1;
        let address: Address = "instance.web".parse().unwrap();
        let written = resource(kinds::get("instance").unwrap(), &address, instance, &objects, &names, "st");
        assert!(written.text.contains("    subnet_id: ${subnet.subnet_1}\n"), "{}", written.text);
        // A key pair not discovered stays a literal name; the default Name tag is left out.
        assert!(written.text.contains("    key_name: made-elsewhere\n"), "{}", written.text);
        assert!(!written.text.contains("tags"), "{}", written.text);
        assert!(written.text.contains("    user_data_file: files/instance-web.user_data\n"), "{}", written.text);
        assert_eq!(
            written.files,
            [(PathBuf::from("files/instance-web.user_data"), "#!/bin/sh\necho ${HOME}\n".to_string())]
        );
        let vpc = objects.iter().find(|((k, _), _)| *k == "vpc").unwrap().1;
        let vpc_text =
            resource(kinds::get("vpc").unwrap(), &"vpc.main".parse().unwrap(), vpc, &objects, &names, "st").text;
        assert_eq!(vpc_text, "  vpc.main:\n    cidr_block: 10.0.0.0/16\n", "`enable_dns_support: true` is the default");
    }

    #[test]
    fn a_secret_is_read_from_a_variable_named_after_its_address() {
        let objects: Objects =
            [object("db_instance", "shop-db", &[("engine", Value::str("mysql"))])].into_iter().collect();
        let names = name_all(&objects);
        let db = objects.values().next().unwrap();
        let written = resource(
            kinds::get("db_instance").unwrap(),
            &"db_instance.shop_db".parse().unwrap(),
            db,
            &objects,
            &names,
            "st",
        );
        assert!(written.text.contains("master_user_password: ${env.SHOP_DB_MASTER_USER_PASSWORD}"), "{}", written.text);
        assert_eq!(written.secrets, [("SHOP_DB_MASTER_USER_PASSWORD".to_string(), "master_user_password".to_string())]);
    }

    #[test]
    fn names_become_resource_names() {
        assert_eq!(label("My Web-Server", "instance"), "my_web_server");
        assert_eq!(label("subnet-0abc12", "subnet"), "subnet_0abc12");
        assert_eq!(label("10.0.1.0/24", "subnet"), "subnet_10_0_1_0_24");
        assert_eq!(label("---", "vpc"), "vpc");
    }
}
