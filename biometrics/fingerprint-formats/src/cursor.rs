//! Bounds-checked big-endian byte reader shared by the WSQ, image-header and
//! template parsers.
//!
//! Every format in this crate is a sequence of big-endian fields whose lengths
//! come from untrusted input. Funnelling all reads through one cursor means a
//! short buffer can only ever produce an [`Eof`] value, never a panic or an
//! out-of-bounds slice, and each format maps that value to its own typed error.

/// The input ended before a field could be read completely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Eof {
    /// Offset at which the failed read started.
    pub offset: usize,
    /// Number of bytes the read wanted.
    pub needed: usize,
}

/// A read position inside a borrowed byte slice.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Starts reading at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Current offset from the start of the slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left after the current position.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Eof> {
        if n > self.remaining() {
            return Err(Eof {
                offset: self.pos,
                needed: n,
            });
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), Eof> {
        self.bytes(n).map(|_| ())
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, Eof> {
        Ok(self.bytes(1)?[0])
    }

    /// Reads a big-endian 16-bit value.
    pub fn u16(&mut self) -> Result<u16, Eof> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a big-endian 32-bit value.
    pub fn u32(&mut self) -> Result<u32, Eof> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The unread part of the slice, without consuming it.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_reports_short_input() {
        let mut c = Cursor::new(&[0x12, 0x34, 0x56, 0x78, 0x9a]);
        assert_eq!(c.u16().unwrap(), 0x1234);
        assert_eq!(c.u8().unwrap(), 0x56);
        assert_eq!(
            c.u32(),
            Err(Eof {
                offset: 3,
                needed: 4
            })
        );
        // A failed read consumes nothing.
        assert_eq!(c.position(), 3);
        assert_eq!(c.u16().unwrap(), 0x789a);
        assert_eq!(c.remaining(), 0);
        assert!(c.rest().is_empty());
    }
}
