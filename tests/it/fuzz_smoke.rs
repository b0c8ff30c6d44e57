//! A short run of the fuzz targets' entry points (`fuzz/`, see `docs/fuzzing.md`)
//! on random and mangled inputs: every reply and request decodes or errors, never panics.

use payamak::codegen::fuzz;

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
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The golden request envelopes, and replies built from them, as seeds to mangle.
fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/envelopes");
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("the golden envelopes")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|extension| extension == "xml"))
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect();
    seeds.sort();
    let replies: Vec<Vec<u8>> = seeds
        .iter()
        .map(|seed| {
            String::from_utf8_lossy(seed).replace("<username>", "<GetCreditResult>1</GetCreditResult><x>").into_bytes()
        })
        .collect();
    seeds.extend(replies);
    assert!(seeds.len() >= 20, "{} seeds in {}", seeds.len(), dir.display());
    seeds
}

/// `seed` with a few random edits: bytes replaced, cut, a span repeated.
fn mangle(random: &mut Random, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + random.below(4) {
        if data.is_empty() {
            break;
        }
        let at = random.below(data.len());
        match random.below(4) {
            0 => data[at] = random.next() as u8,
            1 => data.truncate(at),
            2 => {
                let end = (at + random.below(64)).min(data.len());
                let span = data[at..end].to_vec();
                data.splice(at..at, span);
            }
            _ => {
                let markup: &[&[u8]] = &[b"<", b">", b"/>", b"&amp;", b"xmlns:a=\"u\"", b"xsi:nil=\"true\"", b"]]>"];
                let piece = markup[random.below(markup.len())];
                data.splice(at..at, piece.iter().copied());
            }
        }
    }
    data
}

#[test]
fn random_and_mangled_input_never_panics() {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let length = random.below(512);
        let data: Vec<u8> = (0..length).map(|_| random.next() as u8).collect();
        fuzz::replies(&data);
        fuzz::requests(&data);
    }
    let seeds = seeds();
    for round in 0..800 {
        let seed = &seeds[round % seeds.len()];
        let data = mangle(&mut random, seed);
        fuzz::replies(&data);
        fuzz::requests(&data);
    }
}
