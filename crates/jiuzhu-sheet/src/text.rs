//! Text encodings of the CSV files clerks and departments send: UTF-8 (with or without BOM),
//! UTF-16 with BOM (Excel's "Unicode text") and GB18030, the superset of GBK in which Excel on a
//! Chinese Windows saves "CSV". Detection reads the whole input once without keeping it;
//! decoding streams.

use std::io::{self, Read};

use encoding_rs::{CoderResult, Decoder, DecoderResult, GB18030, UTF_16LE, UTF_8};

/// How a text file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// UTF-16 of either byte order, recognised by its BOM.
    Utf16,
    Gb18030,
}

const CHUNK: usize = 64 << 10;

/// Reads `r` to its end and tells its encoding: a UTF-16 BOM means UTF-16; text that is valid
/// UTF-8 throughout (after an optional BOM) is UTF-8; anything else is taken for GB18030
/// (whether it is valid GB18030 shows when it is decoded).
pub fn detect<R: Read>(mut r: R) -> io::Result<TextEncoding> {
    let mut buf = vec![0u8; CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            // A character cut off by the end of the file is not UTF-8.
            return Ok(if carry.is_empty() {
                TextEncoding::Utf8
            } else {
                TextEncoding::Gb18030
            });
        }
        if first && (buf[..n].starts_with(b"\xFF\xFE") || buf[..n].starts_with(b"\xFE\xFF")) {
            return Ok(TextEncoding::Utf16);
        }
        first = false;
        let mut chunk = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        match std::str::from_utf8(&chunk) {
            Ok(_) => {}
            // Cut in the middle of a character: carry its start to the next chunk.
            Err(e) if e.error_len().is_none() => carry = chunk[e.valid_up_to()..].to_vec(),
            Err(_) => return Ok(TextEncoding::Gb18030),
        }
    }
}

/// Detects the encoding of bytes already in memory.
pub fn detect_bytes(bytes: &[u8]) -> TextEncoding {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        TextEncoding::Utf16
    } else if std::str::from_utf8(bytes).is_ok() {
        TextEncoding::Utf8
    } else {
        TextEncoding::Gb18030
    }
}

/// What to do with bytes that are not valid in the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// An `InvalidData` error: the file is refused as a whole.
    Refuse,
    /// U+FFFD: the row with the bad bytes is then rejected by the field checks, with its line.
    Replace,
}

/// Streams `inner`, in `encoding`, as UTF-8 without a BOM. Line breaks are kept, so line numbers
/// survive the conversion.
pub struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    malformed: Malformed,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    finished: bool,
}

impl<R: Read> DecodeReader<R> {
    pub fn new(inner: R, encoding: TextEncoding, malformed: Malformed) -> DecodeReader<R> {
        let decoder = match encoding {
            TextEncoding::Utf8 => UTF_8.new_decoder_with_bom_removal(),
            // The BOM picks the byte order.
            TextEncoding::Utf16 => UTF_16LE.new_decoder(),
            TextEncoding::Gb18030 => GB18030.new_decoder_without_bom_handling(),
        };
        DecodeReader {
            inner,
            decoder,
            malformed,
            input: vec![0; CHUNK],
            in_start: 0,
            in_end: 0,
            eof: false,
            // Any of these encodings takes at most 3 UTF-8 bytes per input byte, plus a carried
            // partial character.
            output: vec![0; CHUNK * 3 + 16],
            out_start: 0,
            out_end: 0,
            finished: false,
        }
    }

    /// Decodes the next piece into `output`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        while !self.finished {
            if self.in_start == self.in_end && !self.eof {
                self.in_start = 0;
                self.in_end = self.inner.read(&mut self.input)?;
                self.eof = self.in_end == 0;
            }
            let src = &self.input[self.in_start..self.in_end];
            let last = self.eof;
            let (read, written) =
                match self.malformed {
                    Malformed::Replace => {
                        let (result, read, written, _) =
                            self.decoder.decode_to_utf8(src, &mut self.output, last);
                        if last && result == CoderResult::InputEmpty {
                            self.finished = true;
                        }
                        (read, written)
                    }
                    Malformed::Refuse => {
                        let (result, read, written) = self
                            .decoder
                            .decode_to_utf8_without_replacement(src, &mut self.output, last);
                        match result {
                            DecoderResult::Malformed(..) => {
                                return Err(io::Error::new(
                                    io::ErrorKind::InvalidData,
                                    "malformed text in the declared encoding",
                                ))
                            }
                            DecoderResult::InputEmpty if last => self.finished = true,
                            _ => {}
                        }
                        (read, written)
                    }
                };
            self.in_start += read;
            self.out_start = 0;
            self.out_end = written;
            if written > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_start == self.out_end && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// The encoding's name as clerks know it, for messages.
pub fn label_zh(e: TextEncoding) -> &'static str {
    match e {
        TextEncoding::Utf8 => "UTF-8",
        TextEncoding::Utf16 => "UTF-16",
        TextEncoding::Gb18030 => "GBK/GB18030",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], malformed: Malformed) -> io::Result<String> {
        let enc = detect(bytes)?;
        let mut out = String::new();
        DecodeReader::new(bytes, enc, malformed).read_to_string(&mut out)?;
        Ok(out)
    }

    #[test]
    fn the_three_encodings_become_utf8() {
        assert_eq!(
            decode("\u{feff}姓名\n".as_bytes(), Malformed::Refuse).unwrap(),
            "姓名\n"
        );
        let (gbk, _, _) = GB18030.encode("姓名,张三\n");
        assert_eq!(detect(&gbk[..]).unwrap(), TextEncoding::Gb18030);
        assert_eq!(decode(&gbk, Malformed::Refuse).unwrap(), "姓名,张三\n");
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "姓名\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&utf16, Malformed::Refuse).unwrap(), "姓名\n");
    }

    #[test]
    fn malformed_gbk_is_refused_or_replaced() {
        let bad = b"a,\xFF\xFF\n";
        assert!(decode(bad, Malformed::Refuse).is_err());
        assert_eq!(
            decode(bad, Malformed::Replace).unwrap(),
            "a,\u{fffd}\u{fffd}\n"
        );
    }

    #[test]
    fn a_character_split_across_chunks_is_still_utf8() {
        let mut text = "a".repeat(CHUNK - 1);
        text.push('姓');
        assert_eq!(detect(text.as_bytes()).unwrap(), TextEncoding::Utf8);
    }
}
