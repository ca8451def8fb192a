//! A guard between a CSV file and the CSV parser. It follows the quoting rules the parser uses
//! (a quote opens a quoted field only at the start of a field; `""` inside it is a quote) and
//! refuses a record longer than a limit, so that a quote left open cannot make one "record" of
//! the rest of the file; it also counts records, so that an importer can refuse a file with too
//! many rows before it builds anything from it.

use std::io::{self, Read};

use crate::bounded::limit_error;
use crate::limits::{Limit, LimitExceeded, CSV_MAX_RECORD_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the field's end, or the first half of `""`.
    QuoteInQuoted,
}

/// See the module documentation. Errors carry a [`LimitExceeded`] (read it back with
/// [`crate::bounded::limit_of`]) with the line on which the record started.
pub struct RecordGuard<R> {
    inner: R,
    delimiter: u8,
    state: State,
    record_bytes: u64,
    record_has_content: bool,
    line: u64,
    record_start_line: u64,
    records: u64,
    max_record_bytes: u64,
    max_records: u64,
}

impl<R: Read> RecordGuard<R> {
    /// A guard with the default record limit and no limit on the number of records.
    pub fn new(inner: R, delimiter: u8) -> RecordGuard<R> {
        RecordGuard {
            inner,
            delimiter,
            state: State::FieldStart,
            record_bytes: 0,
            record_has_content: false,
            line: 1,
            record_start_line: 1,
            records: 0,
            max_record_bytes: CSV_MAX_RECORD_BYTES,
            max_records: u64::MAX,
        }
    }

    /// Refuses the input once it has more than `rows` records after the header.
    pub fn max_data_rows(mut self, rows: u64) -> RecordGuard<R> {
        self.max_records = rows.saturating_add(1);
        self
    }

    pub fn max_record_bytes(mut self, bytes: u64) -> RecordGuard<R> {
        self.max_record_bytes = bytes;
        self
    }

    /// Non-blank records seen so far, the header included.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn end_record(&mut self) -> io::Result<()> {
        if self.record_has_content {
            self.records += 1;
            if self.records > self.max_records {
                return Err(limit_error(
                    LimitExceeded::new(Limit::Rows(self.max_records - 1)).at_row(self.line),
                ));
            }
        }
        self.record_bytes = 0;
        self.record_has_content = false;
        self.record_start_line = self.line + 1;
        Ok(())
    }

    fn scan(&mut self, data: &[u8]) -> io::Result<()> {
        for &b in data {
            self.record_bytes += 1;
            if self.record_bytes > self.max_record_bytes {
                return Err(limit_error(
                    LimitExceeded::new(Limit::RecordBytes(self.max_record_bytes))
                        .at_row(self.record_start_line),
                ));
            }
            if b == b'\n' {
                match self.state {
                    State::Quoted => {
                        self.line += 1;
                        continue;
                    }
                    _ => {
                        self.state = State::FieldStart;
                        self.end_record()?;
                        self.line += 1;
                        continue;
                    }
                }
            }
            if !matches!(b, b'\r' | b' ' | b'\t') && b != self.delimiter {
                self.record_has_content = true;
            }
            self.state = match (self.state, b) {
                (State::FieldStart, b'"') => State::Quoted,
                (State::FieldStart | State::Unquoted, d) if d == self.delimiter => {
                    State::FieldStart
                }
                (State::FieldStart | State::Unquoted, _) => State::Unquoted,
                (State::Quoted, b'"') => State::QuoteInQuoted,
                (State::Quoted, _) => State::Quoted,
                (State::QuoteInQuoted, b'"') => State::Quoted,
                (State::QuoteInQuoted, d) if d == self.delimiter => State::FieldStart,
                (State::QuoteInQuoted, _) => State::Unquoted,
            };
        }
        Ok(())
    }

    /// Reads the input to its end, checking it; returns the number of non-blank records.
    pub fn count(mut self) -> io::Result<u64> {
        let mut buf = vec![0u8; 64 << 10];
        while self.read(&mut buf)? > 0 {}
        Ok(self.records)
    }
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            // The last record may end without a line break.
            if self.record_bytes > 0 {
                self.end_record()?;
            }
            return Ok(0);
        }
        self.scan(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::limit_of;

    fn count(text: &str) -> io::Result<u64> {
        RecordGuard::new(text.as_bytes(), b',')
            .max_record_bytes(32)
            .count()
    }

    #[test]
    fn counts_records_not_lines_inside_quotes() {
        assert_eq!(count("a,b\n1,\"x\ny\"\n2,z").unwrap(), 3);
        assert_eq!(count("a,b\n\n,,\n1,2\n").unwrap(), 2);
        assert_eq!(count("a,\"say \"\"hi\"\"\"\n1,2\n").unwrap(), 2);
    }

    #[test]
    fn an_open_quote_cannot_swallow_the_file() {
        let text = format!("a,b\n1,\"open\n{}", "2,z\n".repeat(20));
        let err = count(&text).unwrap_err();
        let e = limit_of(&err).unwrap();
        assert_eq!(e.limit, Limit::RecordBytes(32));
        assert_eq!(e.row, Some(2));
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_a_character() {
        assert_eq!(count("a,b\n5\"1,x\n6,y\n").unwrap(), 3);
    }

    #[test]
    fn too_many_rows_are_refused_at_the_row() {
        let err = RecordGuard::new("h\n1\n2\n3\n".as_bytes(), b',')
            .max_data_rows(2)
            .count()
            .unwrap_err();
        let e = limit_of(&err).unwrap();
        assert_eq!(e.limit, Limit::Rows(2));
        assert_eq!(e.row, Some(4));
    }
}
