//! Types that contain themselves by value cannot be Rust structs.

use std::collections::{BTreeMap, BTreeSet};

use super::{NamedType, QName, Shape, TypeKind, TypeRef};
use crate::diag::Problem;

/// Rust cannot hold a struct inside itself without a box; the runtime has no
/// boxed fields, so a type that contains itself other than through an array is an error.
pub(super) fn check_recursion(types: &[NamedType]) -> Result<(), Problem> {
    let by_name: BTreeMap<&QName, &NamedType> = types.iter().map(|named| (&named.name, named)).collect();
    let mut done = BTreeSet::new();
    for named in types {
        visit(named, &by_name, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}

fn visit<'t>(
    named: &'t NamedType,
    by_name: &BTreeMap<&QName, &'t NamedType>,
    path: &mut Vec<&'t QName>,
    done: &mut BTreeSet<&'t QName>,
) -> Result<(), Problem> {
    if done.contains(&named.name) {
        return Ok(());
    }
    path.push(&named.name);
    if let TypeKind::Struct { fields, .. } = &named.kind {
        for field in fields {
            let (Shape::Single { .. }, TypeRef::Named(target)) = (&field.shape, &field.item) else { continue };
            if path.contains(&target) {
                return Err(Problem::new(
                    field.pos,
                    format!(
                        "recursive type: element \"{}\" holds complexType \"{}\" by value inside itself; make the element repeated (maxOccurs=\"unbounded\") or an array",
                        field.element.local, target.local
                    ),
                ));
            }
            if let Some(next) = by_name.get(target) {
                visit(next, by_name, path, done)?;
            }
        }
    }
    path.pop();
    done.insert(&named.name);
    Ok(())
}
