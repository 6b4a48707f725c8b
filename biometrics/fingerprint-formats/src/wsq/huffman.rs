//! Huffman coding of quantised WSQ coefficients.
//!
//! WSQ reuses the JPEG scheme: a table lists how many codes of each length
//! 1..=16 exist and which symbols they stand for, codes are assigned
//! canonically, and the entropy-coded bytes are "stuffed" (an `0xFF` byte is
//! followed by `0x00`) so that markers stay recognisable. The symbol alphabet
//! is WSQ's own: zero runs, escapes and small coefficient values.

use super::WsqError;

/// Longest code length allowed by the format.
pub(crate) const MAX_CODE_LEN: usize = 16;
/// Number of distinct WSQ Huffman symbols (0..=255).
pub(crate) const SYMBOLS: usize = 256;

/// Symbol for a positive coefficient that follows as 8 raw bits.
pub(crate) const ESC_POS_8: u8 = 101;
/// Symbol for a negative coefficient that follows as 8 raw bits.
pub(crate) const ESC_NEG_8: u8 = 102;
/// Symbol for a positive coefficient that follows as 16 raw bits.
pub(crate) const ESC_POS_16: u8 = 103;
/// Symbol for a negative coefficient that follows as 16 raw bits.
pub(crate) const ESC_NEG_16: u8 = 104;
/// Symbol for a zero run whose length follows as 8 raw bits.
pub(crate) const ESC_RUN_8: u8 = 105;
/// Symbol for a zero run whose length follows as 16 raw bits.
pub(crate) const ESC_RUN_16: u8 = 106;
/// Longest zero run coded directly by its own symbol (1..=100).
pub(crate) const MAX_DIRECT_RUN: u32 = 100;
/// Largest coefficient magnitude coded directly (symbols 107..=254 stand
/// for -73..=74 via `symbol - 180`).
pub(crate) const MAX_DIRECT_COEFF: i32 = 74;
/// Offset between a directly coded coefficient and its symbol.
pub(crate) const COEFF_SYMBOL_OFFSET: i32 = 180;

/// A Huffman table as stored in a DHT segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HuffmanSpec {
    /// `counts[i]` = number of codes of length `i + 1`.
    pub counts: [u8; MAX_CODE_LEN],
    /// Symbols in order of increasing code length.
    pub symbols: Vec<u8>,
}

/// Canonical code lengths and values for every symbol of a table.
fn canonical_codes(spec: &HuffmanSpec) -> Result<Vec<(u8, u16, u8)>, WsqError> {
    let mut out = Vec::with_capacity(spec.symbols.len());
    let mut code: u32 = 0;
    let mut k = 0;
    for len in 1..=MAX_CODE_LEN {
        for _ in 0..spec.counts[len - 1] {
            let sym = *spec
                .symbols
                .get(k)
                .ok_or(WsqError::BadHuffmanTable("fewer symbols than codes"))?;
            if code >= (1u32 << len) {
                return Err(WsqError::BadHuffmanTable(
                    "code lengths over-subscribe the code space",
                ));
            }
            if code == (1u32 << len) - 1 {
                // An all-ones code could be confused with the 1-bit padding
                // at the end of a block; the specification forbids it.
                return Err(WsqError::BadHuffmanTable("table contains an all-ones code"));
            }
            out.push((sym, code as u16, len as u8));
            code += 1;
            k += 1;
        }
        code <<= 1;
    }
    Ok(out)
}

/// Lookup tables for decoding one Huffman table.
#[derive(Debug, Clone)]
pub(crate) struct Decoder {
    max_code: [i32; MAX_CODE_LEN + 1],
    min_code: [i32; MAX_CODE_LEN + 1],
    first_index: [usize; MAX_CODE_LEN + 1],
    symbols: Vec<u8>,
}

impl Decoder {
    /// Validates `spec` and prepares it for decoding.
    pub fn new(spec: &HuffmanSpec) -> Result<Self, WsqError> {
        canonical_codes(spec)?;
        let mut max_code = [-1i32; MAX_CODE_LEN + 1];
        let mut min_code = [0i32; MAX_CODE_LEN + 1];
        let mut first_index = [0usize; MAX_CODE_LEN + 1];
        let mut code = 0i32;
        let mut k = 0usize;
        for len in 1..=MAX_CODE_LEN {
            let n = spec.counts[len - 1] as usize;
            if n > 0 {
                first_index[len] = k;
                min_code[len] = code;
                code += n as i32;
                k += n;
                max_code[len] = code - 1;
            }
            code <<= 1;
        }
        Ok(Self {
            max_code,
            min_code,
            first_index,
            symbols: spec.symbols.clone(),
        })
    }

    /// Decodes one symbol; `None` when the data ends inside a code (the
    /// 1-bit padding at the end of a block).
    pub fn decode(&self, bits: &mut BitReader<'_>) -> Result<Option<u8>, WsqError> {
        let mut code = match bits.bit() {
            Some(b) => b as i32,
            None => return Ok(None),
        };
        let mut len = 1;
        while code > self.max_code[len] {
            len += 1;
            if len > MAX_CODE_LEN {
                return Err(WsqError::BadHuffmanCode {
                    offset: bits.byte_offset(),
                });
            }
            match bits.bit() {
                Some(b) => code = (code << 1) | b as i32,
                None => return Ok(None),
            }
        }
        let index = self.first_index[len] + (code - self.min_code[len]) as usize;
        self.symbols
            .get(index)
            .copied()
            .map(Some)
            .ok_or(WsqError::BadHuffmanCode {
                offset: bits.byte_offset(),
            })
    }
}

/// Reads bits most-significant first from already unstuffed bytes.
#[derive(Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    byte: usize,
    bit: u8,
}

impl<'a> BitReader<'a> {
    /// Reads from `data`, which must no longer contain stuffing bytes.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            byte: 0,
            bit: 0,
        }
    }

    /// Next single bit.
    pub fn bit(&mut self) -> Option<u32> {
        let b = *self.data.get(self.byte)?;
        let v = (b >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.byte += 1;
        }
        Some(v as u32)
    }

    /// Next `n` (≤ 16) bits as an unsigned number.
    pub fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// Byte position, for error messages.
    pub fn byte_offset(&self) -> usize {
        self.byte
    }
}

/// Builds an optimal length-limited table for the given symbol frequencies,
/// following the procedure of ITU-T T.81 Annex K.2.
pub(crate) fn build_spec(freq: &[u32; SYMBOLS]) -> HuffmanSpec {
    // One extra pseudo-symbol with frequency 1 reserves the all-ones code.
    const N: usize = SYMBOLS + 1;
    let mut f = [0u64; N];
    for (d, s) in f.iter_mut().zip(freq.iter()) {
        *d = u64::from(*s);
    }
    f[SYMBOLS] = 1;
    let mut size = [0usize; N];
    let mut next: [Option<usize>; N] = [None; N];
    loop {
        // Least frequent non-zero entry, larger index winning ties; then the
        // next least frequent one.
        let pick = |exclude: Option<usize>, f: &[u64; N]| {
            let mut best: Option<usize> = None;
            for i in 0..N {
                if f[i] == 0 || Some(i) == exclude {
                    continue;
                }
                if best.is_none_or(|b| f[i] <= f[b]) {
                    best = Some(i);
                }
            }
            best
        };
        let Some(v1) = pick(None, &f) else { break };
        let Some(v2) = pick(Some(v1), &f) else { break };
        f[v1] += f[v2];
        f[v2] = 0;
        let mut a = v1;
        size[a] += 1;
        while let Some(n) = next[a] {
            a = n;
            size[a] += 1;
        }
        next[a] = Some(v2);
        let mut b = v2;
        size[b] += 1;
        while let Some(n) = next[b] {
            b = n;
            size[b] += 1;
        }
    }
    let mut bits = [0u32; 64];
    for &s in size.iter().filter(|&&s| s > 0) {
        bits[s] += 1;
    }
    // Limit code lengths to 16 bits (Annex K, Figure K.3).
    for i in (MAX_CODE_LEN + 1..64).rev() {
        while bits[i] > 0 {
            let mut j = i - 2;
            while bits[j] == 0 {
                j -= 1;
            }
            bits[i] -= 2;
            bits[i - 1] += 1;
            bits[j + 1] += 2;
            bits[j] -= 1;
        }
    }
    // Drop the reserved pseudo-symbol (it has the longest code).
    let mut i = MAX_CODE_LEN;
    while i > 0 && bits[i] == 0 {
        i -= 1;
    }
    if i > 0 {
        bits[i] -= 1;
    }
    let mut counts = [0u8; MAX_CODE_LEN];
    for len in 1..=MAX_CODE_LEN {
        counts[len - 1] = bits[len] as u8;
    }
    let mut order: Vec<usize> = (0..SYMBOLS).filter(|&s| size[s] > 0).collect();
    order.sort_by_key(|&s| (size[s], s));
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    order.truncate(total);
    HuffmanSpec {
        counts,
        symbols: order.into_iter().map(|s| s as u8).collect(),
    }
}

/// Per-symbol codes for encoding.
#[derive(Debug, Clone)]
pub(crate) struct Encoder {
    codes: [(u16, u8); SYMBOLS],
}

impl Encoder {
    /// Prepares the codes of `spec` for encoding.
    pub fn new(spec: &HuffmanSpec) -> Result<Self, WsqError> {
        let mut codes = [(0u16, 0u8); SYMBOLS];
        for (sym, code, len) in canonical_codes(spec)? {
            codes[sym as usize] = (code, len);
        }
        Ok(Self { codes })
    }

    /// Writes the code of `sym`; the symbol must be part of the table.
    pub fn put(&self, out: &mut BitWriter, sym: u8) -> Result<(), WsqError> {
        let (code, len) = self.codes[sym as usize];
        if len == 0 {
            return Err(WsqError::Internal(
                "symbol missing from the generated Huffman table",
            ));
        }
        out.put(u32::from(code), u32::from(len));
        Ok(())
    }
}

/// Writes bits most-significant first and stuffs a zero after every 0xFF.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    filled: u32,
}

impl BitWriter {
    /// Appends the low `len` bits of `value`.
    pub fn put(&mut self, value: u32, len: u32) {
        for i in (0..len).rev() {
            self.acc = (self.acc << 1) | ((value >> i) & 1);
            self.filled += 1;
            if self.filled == 8 {
                let b = self.acc as u8;
                self.out.push(b);
                if b == 0xFF {
                    self.out.push(0);
                }
                self.acc = 0;
                self.filled = 0;
            }
        }
    }

    /// Pads the last byte with one bits and returns the stuffed bytes.
    pub fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            let pad = 8 - self.filled;
            self.put((1 << pad) - 1, pad);
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_tables_round_trip_symbols() {
        let mut freq = [0u32; SYMBOLS];
        // A skewed distribution that forces long codes.
        for (i, f) in freq.iter_mut().enumerate().take(200) {
            *f = 1 + (1u32 << (i % 24)) / (i as u32 + 1);
        }
        let spec = build_spec(&freq);
        assert!(spec.counts.iter().map(|&c| c as usize).sum::<usize>() == 200);
        let enc = Encoder::new(&spec).unwrap();
        let dec = Decoder::new(&spec).unwrap();
        let mut w = BitWriter::default();
        let msg: Vec<u8> = (0..200u32).map(|i| ((i * 7) % 200) as u8).collect();
        for &s in &msg {
            enc.put(&mut w, s).unwrap();
        }
        let stuffed = w.finish();
        // Remove stuffing the way the block reader does.
        let mut raw = Vec::new();
        let mut i = 0;
        while i < stuffed.len() {
            raw.push(stuffed[i]);
            i += if stuffed[i] == 0xFF { 2 } else { 1 };
        }
        let mut r = BitReader::new(&raw);
        let mut got = Vec::new();
        while let Some(s) = dec.decode(&mut r).unwrap() {
            got.push(s);
        }
        assert_eq!(got, msg);
    }

    #[test]
    fn rejects_oversubscribed_and_all_ones_tables() {
        let mut counts = [0u8; MAX_CODE_LEN];
        counts[0] = 3;
        let spec = HuffmanSpec {
            counts,
            symbols: vec![1, 2, 3],
        };
        assert!(matches!(
            Decoder::new(&spec),
            Err(WsqError::BadHuffmanTable(_))
        ));
        counts[0] = 2;
        let spec = HuffmanSpec {
            counts,
            symbols: vec![1, 2],
        };
        assert!(matches!(
            Decoder::new(&spec),
            Err(WsqError::BadHuffmanTable(_))
        ));
    }
}
