//! The terminal writer: text as rendered, or in plain ASCII (see
//! [`plain`](super::plain)) when the CLI decided the terminal cannot show
//! Unicode.

use std::io::{self, Write};

/// Standard output (or any writer), in plain ASCII when `ascii`.
pub struct Output<W: Write> {
    inner: W,
    ascii: bool,
    /// The start of a UTF-8 character cut off by the end of a write.
    pending: Vec<u8>,
}

impl Output<io::StdoutLock<'static>> {
    pub fn stdout(ascii: bool) -> Self {
        Output::new(io::stdout().lock(), ascii)
    }
}

impl<W: Write> Output<W> {
    pub fn new(inner: W, ascii: bool) -> Self {
        Output {
            inner,
            ascii,
            pending: vec![],
        }
    }
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.ascii {
            return self.inner.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(), // cut off: wait
            Err(_) => self.pending.len(),                         // not UTF-8: as is
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]);
        self.inner.write_all(super::plain(&text).as_bytes())?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_output_converts_characters_cut_between_writes() {
        let mut out = Output::new(Vec::new(), true);
        let text = "a·b─┼▶".as_bytes();
        // Cut inside the two-byte `·`: nothing of it is written until whole.
        out.write_all(&text[..2]).unwrap();
        assert_eq!(out.inner, b"a");
        out.write_all(&text[2..]).unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "a-b-+>");
        let mut out = Output::new(Vec::new(), false);
        out.write_all(text).unwrap();
        assert_eq!(out.inner, text);
    }
}
