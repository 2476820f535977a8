//! Raw UTF-8 in a request line (`GET /api/v1/events?city=TIRANË`), accepted as if it had been
//! percent-encoded.
//!
//! Browsers and curl percent-encode non-ASCII bytes, but hand-written requests and some clients
//! do not, and actix-http's URI parser refuses them with an empty 400 before any application
//! code runs. So the connection's bytes pass through [`EscapedRequestLines`], which writes
//! every byte of 0x80 and above in a request line as `%XX`. It follows HTTP/1.1 framing
//! (headers, `Content-Length` and chunked bodies) to know where each request line starts, so
//! bodies and headers pass unchanged.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest header line whose framing value is read; longer ones pass unread (actix-http
/// refuses them anyway).
const MAX_HEADER_LINE: usize = 8 * 1024;

/// Where in the request stream the next byte is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// The request line; `started` once a byte other than CR/LF came (empty lines before a
    /// request line are allowed and skipped by the parser).
    RequestLine {
        started: bool,
    },
    /// The header section: the current line so far.
    Headers,
    /// A body of this many bytes still to come.
    Sized(u64),
    /// A chunk-size line of a chunked body.
    ChunkSize,
    /// Chunk data, then its CRLF.
    ChunkData(u64),
    ChunkDataEnd,
    /// The trailer section after the last chunk.
    Trailers,
}

/// The rewriting of one connection's incoming bytes.
#[derive(Debug)]
struct Escaper {
    part: Part,
    line: Vec<u8>,
    content_length: u64,
    chunked: bool,
}

impl Escaper {
    fn new() -> Self {
        Self {
            part: Part::RequestLine { started: false },
            line: Vec::new(),
            content_length: 0,
            chunked: false,
        }
    }

    /// Appends `input`, rewritten, to `out`.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut rest = input;
        while let Some((&byte, tail)) = rest.split_first() {
            match self.part {
                Part::Sized(remaining) | Part::ChunkData(remaining) => {
                    // Body bytes pass unread, as many at once as there are.
                    let take = remaining.min(rest.len() as u64) as usize;
                    out.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    let left = remaining - take as u64;
                    self.part = match (&self.part, left) {
                        (Part::Sized(_), 0) => Part::RequestLine { started: false },
                        (Part::Sized(_), n) => Part::Sized(n),
                        (_, 0) => Part::ChunkDataEnd,
                        (_, n) => Part::ChunkData(n),
                    };
                    continue;
                }
                Part::RequestLine { started } => {
                    if byte >= 0x80 {
                        out.extend_from_slice(format!("%{byte:02X}").as_bytes());
                    } else {
                        out.push(byte);
                    }
                    if byte == b'\n' && started {
                        self.start_headers();
                    } else if byte != b'\r' && byte != b'\n' {
                        self.part = Part::RequestLine { started: true };
                    }
                }
                Part::Headers | Part::ChunkSize | Part::ChunkDataEnd | Part::Trailers => {
                    out.push(byte);
                    if byte == b'\n' {
                        self.end_of_line();
                    } else if self.line.len() < MAX_HEADER_LINE {
                        self.line.push(byte);
                    }
                }
            }
            rest = tail;
        }
    }

    fn start_headers(&mut self) {
        self.part = Part::Headers;
        self.line.clear();
        self.content_length = 0;
        self.chunked = false;
    }

    /// A line of a header section, chunk size or trailer section ended.
    fn end_of_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        self.part = match self.part {
            Part::Headers if line.is_empty() => match (self.chunked, self.content_length) {
                (true, _) => Part::ChunkSize,
                (false, 0) => Part::RequestLine { started: false },
                (false, n) => Part::Sized(n),
            },
            Part::Headers => {
                self.read_framing(line);
                Part::Headers
            }
            Part::ChunkSize => {
                let digits = line.split(|&b| b == b';').next().unwrap_or_default();
                let size = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| u64::from_str_radix(d.trim(), 16).ok())
                    .unwrap_or(0);
                if size == 0 {
                    Part::Trailers
                } else {
                    Part::ChunkData(size)
                }
            }
            Part::ChunkDataEnd => Part::ChunkSize,
            Part::Trailers if line.is_empty() => Part::RequestLine { started: false },
            Part::Trailers => Part::Trailers,
            ref other => other.clone(),
        };
    }

    /// Notes `Content-Length` and `Transfer-Encoding: chunked`.
    fn read_framing(&mut self, line: &[u8]) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return;
        };
        let name = &line[..colon];
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_owned();
        if name.eq_ignore_ascii_case(b"content-length") {
            self.content_length = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
}

/// A connection whose incoming request lines have their non-ASCII bytes percent-encoded.
pub struct EscapedRequestLines<T> {
    inner: T,
    escaper: Escaper,
    /// Rewritten bytes not yet handed out.
    pending: Vec<u8>,
    /// How many of `pending` were handed out.
    handed: usize,
    /// The buffer bytes are read into, kept between reads.
    raw: Vec<u8>,
}

impl<T> EscapedRequestLines<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            escaper: Escaper::new(),
            pending: Vec::new(),
            handed: 0,
            raw: Vec::new(),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EscapedRequestLines<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.handed == this.pending.len() {
            this.pending.clear();
            this.handed = 0;
            let wanted = buf.remaining().max(1);
            if this.raw.len() < wanted {
                this.raw.resize(wanted, 0);
            }
            let mut raw_buf = ReadBuf::new(&mut this.raw[..wanted]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) => {}
                other => return other,
            }
            let filled = raw_buf.filled();
            if filled.is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.escaper.feed(filled, &mut this.pending);
        }
        let available = &this.pending[this.handed..];
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        this.handed += n;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EscapedRequestLines<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::Escaper;

    fn escaped(chunks: &[&[u8]]) -> String {
        let mut escaper = Escaper::new();
        let mut out = Vec::new();
        for chunk in chunks {
            escaper.feed(chunk, &mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn request_lines_are_escaped_and_bodies_are_not() {
        let first = "GET /api/v1/events?city=TIRANË HTTP/1.1\r\nHost: x\r\n\r\n";
        let second = "PATCH /api/v1/events/a HTTP/1.1\r\nContent-Length: 18\r\nX-Name: Ë\r\n\r\n{\"title\":\"Tiranë\"}";
        let third = "GET /ë HTTP/1.1\r\n\r\n";
        let all = format!("{first}{second}{third}");
        let expected = format!(
            "GET /api/v1/events?city=TIRAN%C3%8B HTTP/1.1\r\nHost: x\r\n\r\n{second}GET /%C3%AB HTTP/1.1\r\n\r\n"
        );
        assert_eq!(escaped(&[all.as_bytes()]), expected);
        // Byte by byte, as a slow client sends it.
        let bytes: Vec<&[u8]> = all.as_bytes().chunks(1).collect();
        assert_eq!(escaped(&bytes), expected);
    }

    #[test]
    fn chunked_bodies_pass_unchanged() {
        let body = "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nTëa\r\n0\r\n\r\nGET /ë HTTP/1.1\r\n\r\n";
        assert_eq!(
            escaped(&[body.as_bytes()]),
            body.replace("GET /ë", "GET /%C3%AB")
        );
    }
}
