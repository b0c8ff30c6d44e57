//! A short run of the `generator` fuzz target's entry point (`fuzz/`, see
//! `docs/fuzzing.md`) on mangled copies of the fixture WSDLs: the pipeline
//! generates or reports problems, never panics.

use std::path::Path;

/// A small deterministic generator (xorshift64*): the same inputs every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }
}

/// Every fixture's `input.wsdl`, as seeds.
fn seeds() -> Vec<Vec<u8>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&fixtures)
        .expect("the fixtures")
        .filter_map(|entry| std::fs::read(entry.ok()?.path().join("input.wsdl")).ok())
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 15, "{} seeds in {}", seeds.len(), fixtures.display());
    seeds
}

/// `seed` with a few edits that keep it mostly XML: a byte replaced, a cut,
/// a span repeated or removed, a schema construct spliced in.
fn mangle(random: &mut Random, seed: &[u8]) -> Vec<u8> {
    const MARKUP: &[&[u8]] = &[
        b"<",
        b"/>",
        b"\"",
        b"tns:",
        b"xs:",
        b" ref=\"tns:Missing\"",
        b" type=\"xs:anyType\"",
        b" maxOccurs=\"unbounded\"",
        b"<xs:choice><xs:element name=\"a\" type=\"xs:int\"/></xs:choice>",
        b"<xs:complexType name=\"Loop\"><xs:sequence><xs:element name=\"next\" type=\"tns:Loop\"/></xs:sequence></xs:complexType>",
        b"<xs:attribute name=\"id\" type=\"xs:string\"/>",
        b"<xs:extension base=\"tns:Loop\">",
    ];
    let mut data = seed.to_vec();
    for _ in 0..1 + random.below(2) {
        if data.is_empty() {
            break;
        }
        let at = random.below(data.len());
        let end = (at + 1 + random.below(40)).min(data.len());
        // Just after a tag, where a construct spliced in keeps the document well formed.
        let after_tag = data[at..].iter().position(|&byte| byte == b'>').map_or(data.len(), |offset| at + offset + 1);
        match random.below(10) {
            0 => data.truncate(at),
            1 | 2 => data[at] = random.next().to_le_bytes()[0],
            3 | 4 => {
                let span = data[at..end].to_vec();
                data.splice(at..at, span);
            }
            5 => {
                data.drain(at..end);
            }
            _ => {
                let markup = MARKUP[random.below(MARKUP.len())];
                data.splice(after_tag..after_tag, markup.iter().copied());
            }
        }
    }
    data
}

#[test]
fn the_generator_never_panics_on_mangled_wsdls() {
    let seeds = seeds();
    let mut random = Random(0x005e_ed0f_0a5e);
    let generating = seeds.iter().filter(|seed| crate::fuzz_generate(seed)).count();
    let mut generated = 0;
    for round in 0..600 {
        let seed = &seeds[round % seeds.len()];
        let input = mangle(&mut random, seed);
        let outcome = std::panic::catch_unwind(|| crate::fuzz_generate(&input));
        assert!(outcome.is_ok(), "the generator panicked on this input:\n{}", String::from_utf8_lossy(&input));
        generated += usize::from(outcome.unwrap_or(false));
    }
    // Enough mangled inputs get through to binding and emitting for those stages to be exercised.
    assert!(generating >= seeds.len() / 2, "{generating} of {} seeds generate", seeds.len());
    assert!(generated >= 60, "only {generated} of 600 mangled inputs generated");
}
