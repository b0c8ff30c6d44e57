//! Types that contain themselves by value cannot be Rust structs.

use std::collections::{BTreeMap, BTreeSet};

use super::{Field, NamedType, QName, Shape, TypeKind, TypeRef};
use crate::diag::Problem;

/// Rust cannot hold a struct inside itself without a box; the runtime has no
/// boxed fields, so a type that contains itself other than through an array is an error.
pub(super) fn check_recursion(types: &[NamedType]) -> Vec<Problem> {
    let by_name: BTreeMap<&QName, &NamedType> = types.iter().map(|named| (&named.name, named)).collect();
    let mut done = BTreeSet::new();
    let mut problems = Vec::new();
    for named in types {
        visit(named, &by_name, &mut done, &mut problems);
    }
    problems
}

/// Struct fields that hold a named type by value.
fn by_value(named: &NamedType) -> impl Iterator<Item = (&Field, &QName)> {
    let fields = match &named.kind {
        TypeKind::Struct { fields, .. } => fields.as_slice(),
        _ => &[],
    };
    fields.iter().filter_map(|field| match (&field.shape, &field.item) {
        (Shape::Single { .. }, TypeRef::Named(target)) => Some((field, target)),
        _ => None,
    })
}

/// Depth-first from `start`, iteratively (long reference chains must not
/// overflow the stack): an edge back to a type being visited is a cycle.
fn visit<'t>(
    start: &'t NamedType,
    by_name: &BTreeMap<&QName, &'t NamedType>,
    done: &mut BTreeSet<&'t QName>,
    problems: &mut Vec<Problem>,
) {
    if done.contains(&start.name) {
        return;
    }
    let mut visiting: BTreeSet<&'t QName> = BTreeSet::from([&start.name]);
    let mut stack = vec![(start, by_value(start))];
    while let Some((named, edges)) = stack.last_mut() {
        let Some((field, target)) = edges.next() else {
            visiting.remove(&named.name);
            done.insert(&named.name);
            stack.pop();
            continue;
        };
        if visiting.contains(target) {
            problems.push(Problem::new(
                field.pos,
                format!(
                    "recursive type: element \"{}\" holds complexType \"{}\" by value inside itself; make the element repeated (maxOccurs=\"unbounded\") or an array",
                    field.element.local, target.local
                ),
            ));
            continue;
        }
        if done.contains(target) {
            continue;
        }
        if let Some(next) = by_name.get(target) {
            visiting.insert(&next.name);
            stack.push((next, by_value(next)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;

    fn chain(length: usize, back_to: Option<usize>) -> Vec<NamedType> {
        let name = |index: usize| QName::new("urn:t", &format!("T{index}"));
        (0..length)
            .map(|index| {
                let target = if index + 1 < length { Some(index + 1) } else { back_to };
                let fields = target
                    .map(|target| Field {
                        element: QName::new("urn:t", "next"),
                        type_name: name(target),
                        shape: Shape::Single { optional: true, nillable: false },
                        item: TypeRef::Named(name(target)),
                        doc: None,
                        pos: Pos { line: index as u32 + 1, column: 1 },
                    })
                    .into_iter()
                    .collect();
                NamedType {
                    name: name(index),
                    doc: None,
                    kind: TypeKind::Struct { base: None, fields },
                    pos: Pos::default(),
                }
            })
            .collect()
    }

    /// A recursive walk overflowed the stack on chains this long.
    #[test]
    fn long_reference_chains_do_not_overflow_the_stack() {
        let types = chain(20_000, None);
        assert!(check_recursion(&types).is_empty());
        let problems = check_recursion(&chain(20_000, Some(10_000)));
        let [error] = problems.as_slice() else { panic!("one cycle: {problems:?}") };
        assert!(error.message.contains("holds complexType \"T10000\""), "{error:?}");
        assert_eq!(error.pos.line, 20_000);
    }

    #[test]
    fn diamonds_are_no_cycle() {
        // T0 → T1 → T3 and T0 → T2 → T3: T3 is reached twice, never inside itself.
        let mut types = chain(4, None);
        let field = |target: usize| Field {
            element: QName::new("urn:t", "next"),
            type_name: QName::new("urn:t", &format!("T{target}")),
            shape: Shape::Single { optional: false, nillable: false },
            item: TypeRef::Named(QName::new("urn:t", &format!("T{target}"))),
            doc: None,
            pos: Pos::default(),
        };
        types[0].kind = TypeKind::Struct { base: None, fields: vec![field(1), field(2)] };
        types[1].kind = TypeKind::Struct { base: None, fields: vec![field(3)] };
        assert!(check_recursion(&types).is_empty());
        types[3].kind = TypeKind::Struct { base: None, fields: vec![field(1)] };
        assert!(!check_recursion(&types).is_empty());
    }
}
