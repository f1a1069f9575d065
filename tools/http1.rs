//! Just enough HTTP/1.1 for the tools that talk to each other on 127.0.0.1:
//! message heads and Content-Length or chunked bodies over tokio sockets
//! (Node's http server, which the Bolt for JS reference runs on, chunks the
//! replies Bolt writes).
//! Shared by the load generator (responses) and the mock GREEN-API
//! (requests), each through `#[path]`; each reads only some of `Head`.
#![allow(dead_code)]

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// One parsed message head and where its body ends in the buffer.
pub struct Head {
    /// Status code (responses) or 0 (requests).
    pub status: u16,
    /// Request line (requests) or status line (responses).
    pub first_line: String,
    pub content_length: usize,
    /// `Transfer-Encoding: chunked`: the body is chunks, not `content_length` bytes.
    pub chunked: bool,
    pub head_len: usize,
    /// The peer asked to close the connection after this message.
    pub close: bool,
}

fn parse_head(buf: &[u8]) -> Option<Head> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let first_line = lines.next()?.to_owned();
    let status = if first_line.starts_with("HTTP/") {
        first_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    } else {
        0
    };
    let mut content_length = 0;
    let mut close = false;
    let mut chunked = false;
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.rsplit(',').next().is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
        }
    }
    Some(Head { status, first_line, content_length, chunked, head_len: end + 4, close })
}

/// A chunked body starting at `buf[0]`: Ok(None) until it is all there, then
/// the decoded body and the length it takes in `buf` (trailers included).
fn parse_chunked(buf: &[u8]) -> Result<Option<(Vec<u8>, usize)>, String> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_len) = buf[at..].windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let line = std::str::from_utf8(&buf[at..at + line_len]).map_err(|_| "a chunk size is not text")?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        at += line_len + 2;
        if size == 0 {
            // Trailer lines, if any, then the empty line that ends the message.
            loop {
                let Some(line_len) = buf[at..].windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
                at += line_len + 2;
                if line_len == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err("a chunk does not end with CRLF".into());
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size + 2;
    }
}

/// Reads one whole message (head and Content-Length or chunked body) from
/// `stream` into `buf`, which may already hold the start of it. Returns the
/// head and the (decoded) body, and leaves any bytes after the message in
/// `buf` for the next one.
pub async fn read_message(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(Head, Vec<u8>), String> {
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head) = parse_head(buf) {
            if head.chunked {
                loop {
                    if let Some((body, len)) = parse_chunked(&buf[head.head_len..])? {
                        buf.drain(..head.head_len + len);
                        return Ok((head, body));
                    }
                    let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("connection closed mid-body".into());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            let total = head.head_len + head.content_length;
            while buf.len() < total {
                let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err("connection closed mid-body".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[head.head_len..total].to_vec();
            buf.drain(..total);
            return Ok((head, body));
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
