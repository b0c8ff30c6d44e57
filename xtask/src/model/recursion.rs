//! Types that contain themselves by value: Rust needs a box somewhere in each
//! such cycle. The fields that close a cycle (the back edges of a depth-first
//! walk in a fixed order) are boxed; no other field is.

use std::collections::{BTreeMap, BTreeSet};

use super::{Field, NamedType, QName, Shape, TypeKind, TypeRef};

/// Struct fields that hold a named type by value, with their index.
fn by_value(named: &NamedType) -> impl Iterator<Item = (usize, &QName)> {
    fields_of(named).iter().enumerate().filter_map(|(index, field)| match (&field.shape, &field.item) {
        (Shape::Single { .. } | Shape::Choice { repeated: false, .. }, TypeRef::Named(target)) => Some((index, target)),
        _ => None,
    })
}

/// The fields of a struct, or the alternatives of a choice.
fn fields_of(named: &NamedType) -> &[Field] {
    match &named.kind {
        TypeKind::Struct { fields, .. } => fields,
        TypeKind::Choice { alternatives } => alternatives,
        TypeKind::Enum { .. } => &[],
    }
}

/// Marks `boxed` on the fields that close a by-value cycle.
pub(super) fn box_recursive_fields(types: &mut [NamedType]) {
    for (type_index, field_index) in fields_to_box(types) {
        match &mut types[type_index].kind {
            TypeKind::Struct { fields, .. } | TypeKind::Choice { alternatives: fields } => {
                fields[field_index].boxed = true;
            }
            TypeKind::Enum { .. } => {}
        }
    }
}

/// (type index, field index) of every back edge, walking depth-first from each
/// type in order, iteratively (long reference chains must not overflow the stack).
fn fields_to_box(types: &[NamedType]) -> BTreeSet<(usize, usize)> {
    let index_of: BTreeMap<&QName, usize> =
        types.iter().enumerate().map(|(index, named)| (&named.name, index)).collect();
    let mut done = vec![false; types.len()];
    let mut visiting = vec![false; types.len()];
    let mut boxed = BTreeSet::new();
    for start in 0..types.len() {
        if done[start] {
            continue;
        }
        visiting[start] = true;
        let mut stack = vec![(start, by_value(&types[start]))];
        while let Some((current, edges)) = stack.last_mut() {
            let current = *current;
            let Some((field, target)) = edges.next() else {
                visiting[current] = false;
                done[current] = true;
                stack.pop();
                continue;
            };
            let Some(&next) = index_of.get(target) else { continue };
            if visiting[next] {
                boxed.insert((current, field));
            } else if !done[next] {
                visiting[next] = true;
                stack.push((next, by_value(&types[next])));
            }
        }
    }
    boxed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Pos;

    fn field(target: usize) -> Field {
        Field {
            element: QName::new("urn:t", "next"),
            type_name: QName::new("urn:t", &format!("T{target}")),
            shape: Shape::Single { optional: true, nillable: false },
            item: TypeRef::Named(QName::new("urn:t", &format!("T{target}"))),
            boxed: false,
            default: None,
            doc: None,
            pos: Pos::default(),
        }
    }

    fn chain(length: usize, back_to: Option<usize>) -> Vec<NamedType> {
        (0..length)
            .map(|index| {
                let target = if index + 1 < length { Some(index + 1) } else { back_to };
                NamedType {
                    name: QName::new("urn:t", &format!("T{index}")),
                    doc: None,
                    kind: TypeKind::Struct { base: None, fields: target.map(field).into_iter().collect() },
                    pos: Pos::default(),
                }
            })
            .collect()
    }

    /// A recursive walk overflowed the stack on chains this long.
    #[test]
    fn long_reference_chains_do_not_overflow_the_stack() {
        assert!(fields_to_box(&chain(20_000, None)).is_empty());
        assert_eq!(fields_to_box(&chain(20_000, Some(10_000))), BTreeSet::from([(19_999, 0)]));
    }

    #[test]
    fn only_the_field_closing_a_cycle_is_boxed() {
        // T0 → T1 → T3 and T0 → T2 → T3: T3 is reached twice, never inside itself.
        let mut types = chain(4, None);
        types[0].kind = TypeKind::Struct { base: None, fields: vec![field(1), field(2)] };
        types[1].kind = TypeKind::Struct { base: None, fields: vec![field(3)] };
        assert!(fields_to_box(&types).is_empty());
        types[3].kind = TypeKind::Struct { base: None, fields: vec![field(1)] };
        assert_eq!(fields_to_box(&types), BTreeSet::from([(3, 0)]));
        // A type holding itself.
        let mut types = chain(1, Some(0));
        box_recursive_fields(&mut types);
        assert!(matches!(&types[0].kind, TypeKind::Struct { fields, .. } if fields[0].boxed));
    }
}
