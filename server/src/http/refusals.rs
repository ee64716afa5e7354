//! Parse-error responses in the AWS error shape.
//!
//! When hyper cannot parse a request head (a bad `Content-Length`, more than 100 headers, a
//! request target over 65 534 bytes, a head over its buffer), it answers on its own before the
//! service sees anything: a status line, `connection: close`, `content-length: 0` (and
//! `date`), no body, then it closes. [`Refusals`] sits between hyper and the connection,
//! recognises that answer in the bytes hyper writes and puts the error shape every other answer
//! has in its place.
//!
//! What hyper 1.12 writes (`proto/h1/conn.rs` `on_parse_error`, `role.rs` `Server::on_error`),
//! always as the last response on the connection and only at a response boundary:
//!
//! | cause                                                | status |
//! |------------------------------------------------------|--------|
//! | method, target, version, a header (`Content-Length: abc`, a bad `Transfer-Encoding`) | 400 |
//! | target longer than 65 534 bytes                      | 414    |
//! | more than 100 headers, head over the read buffer     | 431    |
//!
//! hyper 1.12 never writes 505: an unknown version is a 400. An HTTP/2 preface (`PRI *
//! HTTP/2.0`) gets nothing at all: hyper ends the connection with an error, and so does this
//! adapter (see [`Refusals`]).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// The longest response head held back while its end is awaited. The server's own heads are a
/// few hundred bytes; anything longer is passed on unchanged and no longer followed.
const MAX_HEAD: usize = 16 * 1024;

/// The largest queue kept allocated once it is empty; a larger one (after a large response) is
/// freed rather than held for the rest of the connection.
const KEEP_CAPACITY: usize = 64 * 1024;

/// The whole HTTP/1.1 response for `e`, closing the connection: the status line, the
/// `content-type`, `x-amzn-ErrorType`, `content-length` and `connection: close` headers, and
/// the JSON body.
pub(crate) fn raw_response(e: &ApiError) -> String {
    let body = e.body().to_string();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\nx-amzn-ErrorType: {}\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        e.status,
        reason(e.status),
        e.name,
        body.len()
    )
}

/// The canonical reason phrase of `status` (a reason must be written; hyper writes `<none>`
/// for a status without one, this writes `Unknown`).
fn reason(status: u16) -> &'static str {
    StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Unknown")
}

/// The error that stands for hyper's own answer with `status`.
///
/// A 5xx (hyper writes a 500 on its own only when a service answers with a 1xx status, which
/// this server never does) is the server's fault, so it is `InternalFailureException` rather
/// than `InvalidRequestException`.
fn refusal(status: u16) -> ApiError {
    let message = match status {
        400 => "The request could not be parsed as HTTP/1.1.".to_owned(),
        414 => "The request line is too long.".to_owned(),
        431 => "The request headers are too large or too many.".to_owned(),
        505 => "Only HTTP/1.1 is served.".to_owned(),
        500..=599 => {
            return ApiError::new(status, "InternalFailureException", "An internal failure occurred.").closing();
        }
        _ => format!("{}.", reason(status)),
    };
    ApiError::new(status, "InvalidRequestException", message).closing()
}

/// What a response head says about itself, as far as the adapter needs to know.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    /// The status code.
    status: u16,
    /// Whether a `content-type` header is present (every answer of the server's has one).
    typed: bool,
    /// The `content-length`, if any.
    length: Option<u64>,
    /// Whether a `transfer-encoding` header is present.
    encoded: bool,
}

impl Head {
    /// Reads a complete head (status line to the blank line). `None` for anything that is not
    /// an HTTP/1.x response head with well-formed header lines.
    fn parse(head: &[u8]) -> Option<Self> {
        let mut lines = head.split(|&b| b == b'\n').map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let status_line = lines.next()?;
        let rest = status_line.strip_prefix(b"HTTP/1.1 ").or_else(|| status_line.strip_prefix(b"HTTP/1.0 "))?;
        let code = rest.get(..3).filter(|code| code.iter().all(u8::is_ascii_digit))?;
        let status = code.iter().fold(0u16, |n, digit| n * 10 + u16::from(digit - b'0'));
        let mut parsed = Self { status, typed: false, length: None, encoded: false };
        for line in lines.filter(|line| !line.is_empty()) {
            let colon = line.iter().position(|&b| b == b':')?;
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-type") {
                parsed.typed = true;
            } else if name.eq_ignore_ascii_case(b"content-length") {
                parsed.length = Some(std::str::from_utf8(value).ok()?.parse().ok()?);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                parsed.encoded = true;
            }
        }
        Some(parsed)
    }

    /// Whether this is hyper's own answer to a request it could not parse: an error status, no
    /// `content-type`, no body.
    fn is_refusal(&self) -> bool {
        self.status >= 400 && !self.typed && !self.encoded && self.length.unwrap_or(0) == 0
    }
}

/// Where the adapter stands in the stream of responses hyper writes.
#[derive(Debug, PartialEq, Eq)]
enum State {
    /// At the start of a response: its head is held here until its blank line.
    Head(Vec<u8>),
    /// After a head announcing this many body bytes: the body follows, unless the next byte
    /// starts a head (the answer to a `HEAD` request has no body). A JSON body never starts
    /// with `H`.
    BodyOrHead(u64),
    /// Inside a body, with this many bytes to go.
    Body(u64),
    /// Everything passes unchanged: after a replaced answer (hyper writes nothing after it), or
    /// after something the adapter cannot frame (no `content-length`, not a response head).
    Through,
}

/// Follows the responses hyper writes and replaces its own parse-error answers. Sans-IO: bytes
/// in, bytes out.
#[derive(Debug)]
struct Tracker {
    /// Where the stream stands.
    state: State,
}

impl Tracker {
    /// At the start of a connection.
    fn new() -> Self {
        Self { state: State::Head(Vec::new()) }
    }

    /// Takes `input`, the next bytes hyper writes, and appends what is to be sent in their place
    /// to `out`. A head is held back until it is complete.
    fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while let Some(&first) = input.first() {
            match &mut self.state {
                State::Through => {
                    out.extend_from_slice(input);
                    return;
                }
                State::Body(left) => {
                    let take = input.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[..take]);
                    input = &input[take..];
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = State::Head(Vec::new());
                    }
                }
                State::BodyOrHead(left) => {
                    self.state = if first == b'H' { State::Head(Vec::new()) } else { State::Body(*left) };
                }
                State::Head(held) => {
                    // The blank line may straddle what was held and what came in.
                    let from = held.len().saturating_sub(3);
                    held.extend_from_slice(input);
                    let Some(end) = held[from..].windows(4).position(|w| w == b"\r\n\r\n").map(|at| from + at + 4)
                    else {
                        let prefix = held.len().min(7);
                        if held.len() > MAX_HEAD || held[..prefix] != b"HTTP/1."[..prefix] {
                            out.append(held);
                            self.state = State::Through;
                        }
                        return;
                    };
                    input = &input[input.len() - (held.len() - end)..];
                    held.truncate(end);
                    let head = std::mem::take(held);
                    self.state = Self::after_head(head, out);
                }
            }
        }
    }

    /// Sends a complete `head` (or the error shape in its place) and answers what follows it.
    fn after_head(head: Vec<u8>, out: &mut Vec<u8>) -> State {
        let Some(parsed) = Head::parse(&head) else {
            out.extend_from_slice(&head);
            return State::Through;
        };
        if parsed.is_refusal() {
            out.extend_from_slice(raw_response(&refusal(parsed.status)).as_bytes());
            return State::Through;
        }
        out.extend_from_slice(&head);
        if (100..200).contains(&parsed.status) {
            // 100 Continue and the like: another head follows.
            return State::Head(Vec::new());
        }
        match parsed.length {
            _ if parsed.encoded => State::Through,
            Some(0) => State::Head(Vec::new()),
            Some(n) => State::BodyOrHead(n),
            None => State::Through,
        }
    }

    /// Gives up a head held back (a flush or shutdown came before its end, which hyper never
    /// does): its bytes go to `out` unchanged and the stream is no longer followed.
    fn release(&mut self, out: &mut Vec<u8>) {
        if let State::Head(held) = &mut self.state
            && !held.is_empty()
        {
            out.append(held);
            self.state = State::Through;
        }
    }
}

/// The connection's IO as hyper sees it, answering parse errors in the AWS error shape.
///
/// hyper's own answer to a request head it cannot parse (400, 414 or 431, no body, then the
/// connection closes) is replaced by [`raw_response`] of an `InvalidRequestException` with the
/// same status and `connection: close`. Every other byte passes unchanged; the server's own
/// answers are recognised by their `content-type`, which hyper's bare answer lacks.
///
/// The adapter follows response boundaries by `content-length` (the server's bodies are whole,
/// so hyper always writes one) and tells a `HEAD` answer's missing body by the next byte (a
/// JSON body never starts with `H`). Whatever it cannot frame (no `content-length`, a chunked
/// body, bytes that are not a response head) makes it stop following and pass every later
/// byte unchanged: it fails to hyper's bare answer, never to a changed response.
///
/// Wrap the stream before [`hyper_util::rt::TokioIo`]:
/// `builder.serve_connection(TokioIo::new(Refusals::new(stream)), service)`.
///
/// Written bytes are taken whole into a queue (one copy), which is sent before anything else
/// is taken and on every flush and shutdown; a write reports its whole buffer consumed once the
/// previous one is out. Writes are vectored (every slice is taken), so hyper queues bodies
/// rather than copying them into its own buffer first.
///
/// An HTTP/2 prior-knowledge preface (`PRI * HTTP/2.0`, as `curl --http2-prior-knowledge`
/// sends) gets no answer: hyper writes nothing and ends the connection, and an HTTP/1.1 text
/// answer would be no better, since such a client reads only HTTP/2 frames.
#[derive(Debug)]
pub(crate) struct Refusals<T> {
    /// The connection.
    io: T,
    /// Where the responses written stand.
    tracker: Tracker,
    /// Bytes taken from hyper and not yet written to `io`, from `sent` on.
    out: Vec<u8>,
    /// How much of `out` is written.
    sent: usize,
}

impl<T> Refusals<T> {
    /// Wraps the connection `io`.
    pub(crate) fn new(io: T) -> Self {
        Self { io, tracker: Tracker::new(), out: Vec::new(), sent: 0 }
    }
}

impl<T: AsyncWrite + Unpin> Refusals<T> {
    /// Writes the queue out; ready once it is empty.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.out.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.out[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.out.clear();
        if self.out.capacity() > KEEP_CAPACITY {
            self.out = Vec::new();
        }
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Refusals<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Refusals<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        this.tracker.feed(buf, &mut this.out);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        let mut taken = 0;
        for buf in bufs {
            this.tracker.feed(buf, &mut this.out);
            taken += buf.len();
        }
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tracker.release(&mut this.out);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.tracker.release(&mut this.out);
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::server::conn::http1::Builder;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// The trivial service's body.
    const OK_BODY: &str = r#"{"ok":true}"#;

    /// Reads the request's body, answers 200 with a JSON body.
    async fn ok(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let _ = request.into_body().collect().await;
        let mut response = Response::new(Full::new(Bytes::from_static(OK_BODY.as_bytes())));
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(response)
    }

    /// The server's builder; without `date`, responses are byte-for-byte repeatable.
    fn builder(date: bool) -> Builder {
        let mut builder = Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .keep_alive(true)
            .auto_date_header(date);
        builder
    }

    /// How a test connection is served.
    #[derive(Clone, Copy)]
    struct Setup {
        /// Through the adapter or straight.
        adapted: bool,
        /// The duplex's buffer: small for partial writes.
        capacity: usize,
        /// Whether hyper writes `date`.
        date: bool,
    }

    const ADAPTED: Setup = Setup { adapted: true, capacity: 64 * 1024, date: true };
    const REPEATABLE: Setup = Setup { adapted: true, capacity: 64 * 1024, date: false };
    const STRAIGHT: Setup = Setup { adapted: false, capacity: 64 * 1024, date: false };
    const TINY: Setup = Setup { adapted: true, capacity: 7, date: false };

    /// Serves one connection, writes `request` into it (while reading) and reads until the
    /// server closes.
    async fn exchange(request: &[u8], setup: Setup) -> Vec<u8> {
        let (client, server) = tokio::io::duplex(setup.capacity);
        let builder = builder(setup.date);
        let served = tokio::spawn(async move {
            if setup.adapted {
                builder.serve_connection(TokioIo::new(Refusals::new(server)), service_fn(ok)).await.is_ok()
            } else {
                builder.serve_connection(TokioIo::new(server), service_fn(ok)).await.is_ok()
            }
        });
        let (mut reader, mut writer) = tokio::io::split(client);
        let write = async move {
            let _ = writer.write_all(request).await;
            writer
        };
        let read = async {
            let mut got = Vec::new();
            let _ = reader.read_to_end(&mut got).await;
            got
        };
        let (writer, got) = tokio::time::timeout(Duration::from_secs(10), async { tokio::join!(write, read) })
            .await
            .expect("the server closes the connection");
        drop(writer);
        let _ = served.await;
        got
    }

    /// A response split into its status line, headers (names lower-cased) and body.
    struct Parsed {
        status_line: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Parsed {
        fn of(response: &[u8]) -> Self {
            let text = String::from_utf8(response.to_vec()).expect("UTF-8");
            let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
            let mut lines = head.split("\r\n");
            let status_line = lines.next().expect("a status line").to_owned();
            let headers = lines
                .map(|line| {
                    let (name, value) = line.split_once(':').expect("a header line");
                    (name.to_ascii_lowercase(), value.trim().to_owned())
                })
                .collect();
            Self { status_line, headers, body: body.to_owned() }
        }

        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// Asserts `response` is the AWS error shape with `status_line`, `InvalidRequestException`
    /// and `message`, and exactly what `raw_response` writes.
    fn assert_refused(response: &[u8], status_line: &str, message: &str) {
        let parsed = Parsed::of(response);
        assert_eq!(parsed.status_line, status_line);
        assert_eq!(parsed.header("content-type"), Some("application/json"));
        assert_eq!(parsed.header("x-amzn-errortype"), Some("InvalidRequestException"));
        assert_eq!(parsed.header("connection"), Some("close"));
        assert_eq!(parsed.header("content-length"), Some(parsed.body.len().to_string().as_str()));
        assert_eq!(parsed.header("date"), None);
        let body: serde_json::Value = serde_json::from_str(&parsed.body).expect("a JSON body");
        assert_eq!(body, serde_json::json!({ "message": message }));
        let status = status_line[9..12].parse().expect("a status");
        assert_eq!(response, raw_response(&ApiError::new(status, "InvalidRequestException", message)).as_bytes());
    }

    /// A good request closing the connection.
    const GOOD: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    /// A good request keeping the connection.
    const GOOD_KEPT: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}";
    /// A request with an unparsable Content-Length.
    const BAD_LENGTH: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n{}";

    #[tokio::test]
    async fn hyper_answers_a_parse_error_with_a_bare_head() {
        // What is replaced: status line, connection: close, content-length: 0, (date), no
        // content-type, no body.
        let response = exchange(BAD_LENGTH, STRAIGHT).await;
        assert_eq!(response, b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
        let response = exchange(BAD_LENGTH, Setup { adapted: false, ..ADAPTED }).await;
        let text = String::from_utf8(response).expect("UTF-8");
        assert!(
            text.starts_with("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: "),
            "{text}"
        );
        assert!(text.ends_with(" GMT\r\n\r\n"), "{text}");
    }

    #[tokio::test]
    async fn a_bad_content_length_is_a_400_in_the_aws_shape() {
        let response = exchange(BAD_LENGTH, ADAPTED).await;
        assert_refused(&response, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn a_bad_method_is_a_400_in_the_aws_shape() {
        let response = exchange(b"G(ET / HTTP/1.1\r\nhost: x\r\n\r\n", ADAPTED).await;
        assert_refused(&response, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn too_many_headers_are_a_431_in_the_aws_shape() {
        let mut request = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..101 {
            request.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        let response = exchange(&request, ADAPTED).await;
        assert_refused(
            &response,
            "HTTP/1.1 431 Request Header Fields Too Large",
            "The request headers are too large or too many.",
        );
    }

    #[tokio::test]
    async fn a_100_kib_request_line_is_a_414_in_the_aws_shape() {
        let mut request = b"GET /".to_vec();
        request.resize(100 * 1024, b'a');
        request.extend_from_slice(b" HTTP/1.1\r\nhost: x\r\n\r\n");
        let response = exchange(&request, ADAPTED).await;
        assert_refused(&response, "HTTP/1.1 414 URI Too Long", "The request line is too long.");
    }

    #[tokio::test]
    async fn an_unknown_version_is_a_400_not_a_505() {
        let response = exchange(b"GET / HTTP/1.2\r\nhost: x\r\n\r\n", ADAPTED).await;
        assert_refused(&response, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn an_http2_preface_gets_no_answer() {
        let response = exchange(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ADAPTED).await;
        assert_eq!(response, b"");
    }

    #[tokio::test]
    async fn http_1_0_is_served_unchanged() {
        let request = b"GET / HTTP/1.0\r\nhost: x\r\n\r\n";
        let response = exchange(request, REPEATABLE).await;
        assert_eq!(response, exchange(request, STRAIGHT).await);
        let parsed = Parsed::of(&response);
        assert_eq!(parsed.status_line, "HTTP/1.0 200 OK");
        assert_eq!(parsed.body, OK_BODY);
    }

    #[tokio::test]
    async fn a_good_request_passes_byte_for_byte() {
        let response = exchange(GOOD, REPEATABLE).await;
        assert_eq!(response, exchange(GOOD, STRAIGHT).await);
        assert_eq!(
            String::from_utf8(response).expect("UTF-8"),
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n\
                 {OK_BODY}",
                OK_BODY.len()
            )
        );
    }

    #[tokio::test]
    async fn a_good_request_with_a_date_passes_whole() {
        let response = exchange(GOOD, ADAPTED).await;
        let parsed = Parsed::of(&response);
        assert_eq!(parsed.status_line, "HTTP/1.1 200 OK");
        assert!(parsed.header("date").is_some());
        assert_eq!(parsed.body, OK_BODY);
    }

    /// The first response in `response` and the rest.
    fn first_response(response: &[u8]) -> (&[u8], &[u8]) {
        let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
        let length = Parsed::of(&response[..end]).header("content-length").expect("a length").parse::<usize>();
        response.split_at(end + length.expect("a number"))
    }

    #[tokio::test]
    async fn keep_alive_a_good_request_then_a_bad_one() {
        let kept_alone = {
            // The first answer as hyper writes it: the same request, the connection then closed
            // by a refusal hyper writes straight.
            let straight = exchange(&[GOOD_KEPT, BAD_LENGTH].concat(), STRAIGHT).await;
            let (first, rest) = first_response(&straight);
            assert_eq!(rest, b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
            first.to_vec()
        };
        for setup in [REPEATABLE, TINY] {
            let response = exchange(&[GOOD_KEPT, BAD_LENGTH].concat(), setup).await;
            let (first, rest) = first_response(&response);
            assert_eq!(first, kept_alone);
            assert_refused(rest, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
        }
    }

    #[tokio::test]
    async fn keep_alive_one_at_a_time() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let served = tokio::spawn(async move {
            builder(true).serve_connection(TokioIo::new(Refusals::new(server)), service_fn(ok)).await
        });
        let (mut reader, mut writer) = tokio::io::split(client);
        writer.write_all(GOOD_KEPT).await.expect("written");
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.ends_with(OK_BODY.as_bytes()) {
            let n = reader.read(&mut chunk).await.expect("read");
            assert_ne!(n, 0, "the connection is kept");
            got.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(Parsed::of(&got).status_line, "HTTP/1.1 200 OK");
        writer.write_all(BAD_LENGTH).await.expect("written");
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.expect("read");
        assert_refused(&rest, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
        assert!(served.await.expect("joined").is_err());
    }

    #[tokio::test]
    async fn a_head_request_then_a_bad_one() {
        let response =
            exchange(&[b"HEAD / HTTP/1.1\r\nhost: x\r\n\r\n".as_slice(), BAD_LENGTH].concat(), REPEATABLE).await;
        let head =
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", OK_BODY.len());
        let rest = response.strip_prefix(head.as_bytes()).expect("the HEAD answer, without its body");
        assert_refused(rest, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn a_100_continue_then_a_bad_one() {
        let request = b"POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n{}";
        let response = exchange(&[request.as_slice(), BAD_LENGTH].concat(), REPEATABLE).await;
        let rest = response.strip_prefix(b"HTTP/1.1 100 Continue\r\n\r\n".as_slice()).expect("100 Continue first");
        let (first, rest) = first_response(rest);
        assert_eq!(Parsed::of(first).body, OK_BODY);
        assert_refused(rest, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn small_partial_writes_arrive_whole() {
        assert_eq!(exchange(GOOD, TINY).await, exchange(GOOD, STRAIGHT).await);
        let response = exchange(BAD_LENGTH, TINY).await;
        assert_refused(&response, "HTTP/1.1 400 Bad Request", "The request could not be parsed as HTTP/1.1.");
    }

    #[tokio::test]
    async fn plain_writes_in_pieces_arrive_replaced() {
        let (mut client, server) = tokio::io::duplex(5);
        let mut adapter = Refusals::new(server);
        let bare = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let write = async move {
            for piece in bare.chunks(3) {
                adapter.write_all(piece).await.expect("written");
            }
            adapter.shutdown().await.expect("shut down");
        };
        let read = async {
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.expect("read");
            got
        };
        let ((), got) = tokio::join!(write, read);
        assert_refused(&got, "HTTP/1.1 414 URI Too Long", "The request line is too long.");
    }

    /// Feeds `input` to a tracker `step` bytes at a time, then a flush.
    fn track(input: &[u8], step: usize) -> Vec<u8> {
        let mut tracker = Tracker::new();
        let mut out = Vec::new();
        for chunk in input.chunks(step) {
            tracker.feed(chunk, &mut out);
        }
        tracker.release(&mut out);
        out
    }

    #[test]
    fn the_tracker_replaces_only_a_bare_error_head_at_a_boundary() {
        let ours = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{OK_BODY}");
        let bare = "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\
                    date: x\r\n\r\n";
        let replaced = raw_response(&refusal(431));
        for step in [1, 2, 3, 5, 1000] {
            assert_eq!(track(ours.as_bytes(), step), ours.as_bytes());
            assert_eq!(track(format!("{ours}{bare}").as_bytes(), step), format!("{ours}{replaced}").as_bytes());
            // A body that holds a bare head is a body, wherever the writes split it.
            let body = format!("{{\"message\":\"{bare}\"}}");
            let looks = format!(
                "{ours}HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            assert_eq!(track(looks.as_bytes(), step), looks.as_bytes());
        }
    }

    #[test]
    fn the_tracker_passes_what_it_cannot_frame() {
        for input in [
            b"not a response at all".as_slice(),
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\nno colon\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: x\r\n\r\n",
            b"HTTP/1.1 400 Bad Re",
        ] {
            assert_eq!(track(input, 1), input);
            assert_eq!(track(input, 1000), input);
        }
        let long = [b"HTTP/1.1 200 OK\r\nx: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        let mut tracker = Tracker::new();
        let mut out = Vec::new();
        tracker.feed(&long, &mut out);
        assert_eq!(out, long, "a head too long to hold is passed on");
        assert_eq!(tracker.state, State::Through);
    }

    #[test]
    fn refusals_by_status() {
        let cases = [
            (400, "InvalidRequestException", "The request could not be parsed as HTTP/1.1."),
            (414, "InvalidRequestException", "The request line is too long."),
            (431, "InvalidRequestException", "The request headers are too large or too many."),
            (505, "InvalidRequestException", "Only HTTP/1.1 is served."),
            (408, "InvalidRequestException", "Request Timeout."),
            (500, "InternalFailureException", "An internal failure occurred."),
        ];
        for (status, name, message) in cases {
            let e = refusal(status);
            assert_eq!((e.status, e.name, e.message.as_str(), e.close), (status, name, message, true));
        }
    }

    #[test]
    fn raw_response_is_the_whole_answer() {
        let e = ApiError::unavailable("Too many connections; try again.");
        let body = r#"{"message":"Too many connections; try again."}"#;
        assert_eq!(
            raw_response(&e),
            format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
                 x-amzn-ErrorType: ServiceUnavailableException\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
        );
        assert!(raw_response(&ApiError::new(299, "X", "m")).starts_with("HTTP/1.1 299 Unknown\r\n"));
    }
}
