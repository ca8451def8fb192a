//! A reader that refuses to hand out more than a limit of bytes.

use std::io::{self, Read};

use crate::limits::{Limit, LimitExceeded};

/// Reads at most `limit.value()` bytes from `inner`; one byte more is an error carrying
/// [`LimitExceeded`] (see [`limit_of`]).
pub struct Bounded<R> {
    inner: R,
    remaining: u64,
    limit: Limit,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, limit: Limit) -> Bounded<R> {
        Bounded {
            inner,
            remaining: limit.value(),
            limit,
        }
    }

    /// Bytes read so far.
    pub fn consumed(&self) -> u64 {
        self.limit.value() - self.remaining
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // Ask for one byte beyond the limit, so that an input of exactly the limit passes and
        // one byte more is noticed.
        let want = (buf.len() as u64).min(self.remaining.saturating_add(1)) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.remaining {
            self.remaining = 0;
            return Err(limit_error(LimitExceeded::new(self.limit)));
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Wraps a [`LimitExceeded`] into an I/O error, so that it travels through readers that only
/// know `io::Error` (the csv crate, quick-xml, decompressors).
pub fn limit_error(e: LimitExceeded) -> io::Error {
    io::Error::other(e)
}

/// The [`LimitExceeded`] inside an I/O error made by [`limit_error`].
pub fn limit_of(e: &io::Error) -> Option<LimitExceeded> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_the_limit_passes_one_more_byte_fails() {
        let mut ok = Bounded::new(&[7u8; 10][..], Limit::FileBytes(10));
        let mut out = Vec::new();
        ok.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 10);

        let mut over = Bounded::new(&[7u8; 11][..], Limit::FileBytes(10));
        let err = over.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(limit_of(&err).unwrap().limit, Limit::FileBytes(10));
    }
}
