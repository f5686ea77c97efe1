//! RESP2, the Redis protocol: requests (multibulk `*N\r\n$L\r\n...` and
//! inline `PING\r\n`) parsed incrementally from a connection's input, and
//! replies encoded into its output.
//!
//! The parser follows Redis 7.0's `processMultibulkBuffer` and
//! `processInlineBuffer` (networking.c), errors included, so that a client
//! sees the same protocol errors from us as from `redis-server`.  It never
//! panics on any input (a proptest in this file checks arbitrary bytes),
//! never allocates more than the bytes it was given plus a bounded
//! argument vector, and reports how many bytes a complete request took, so
//! the caller drops them and keeps the rest (pipelining).

/// Limits of what one request may be.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest bulk string (Redis `proto-max-bulk-len`, 512 MiB there).
    pub max_bulk: usize,
    /// Most arguments in one multibulk request (Redis 7.0 takes up to
    /// INT_MAX; a request is bounded by the server's query limit as well).
    pub max_args: usize,
    /// Longest inline request or multibulk header line without a newline
    /// (Redis `PROTO_INLINE_MAX_SIZE`, 64 KiB).
    pub max_inline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk: 1 << 20,
            max_args: 1 << 20,
            max_inline: 64 * 1024,
        }
    }
}

/// A request that breaks the protocol: the connection gets this error as a
/// reply (after the replies to the requests before it) and is closed, as
/// Redis does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    /// The reply text without the leading `-` and the line end.
    pub fn message(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

/// What [`parse`] found at the start of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole request yet: read more.
    Incomplete,
    /// A request of these arguments (possibly none: an empty line or
    /// `*0`, which Redis skips) took this many bytes.
    Request(Vec<Vec<u8>>, usize),
}

/// Parses the first request in `buf`.
pub fn parse(buf: &[u8], lim: &Limits) -> Result<Parsed, ProtocolError> {
    match buf.first() {
        None => Ok(Parsed::Incomplete),
        Some(b'*') => parse_multibulk(buf, lim),
        Some(_) => parse_inline(buf, lim),
    }
}

/// Position of the first `\r` in `buf[from..]`, and whether the `\n` after
/// it is there too (Redis looks for `\r` and assumes the `\n`).
fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    let i = buf[from..].iter().position(|&b| b == b'\r')? + from;
    // Redis: the newline must leave room for "\r\n" in the buffer.
    (i + 1 < buf.len()).then_some(i)
}

/// Redis's `string2ll`: an optional `-`, digits without leading zeros
/// ("0" alone is fine), within i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else {
        i64::try_from(v).ok()
    }
}

fn parse_multibulk(buf: &[u8], lim: &Limits) -> Result<Parsed, ProtocolError> {
    let Some(nl) = line_end(buf, 0) else {
        if buf.len() > lim.max_inline {
            return Err(ProtocolError("too big mbulk count string".into()));
        }
        return Ok(Parsed::Incomplete);
    };
    let count = match parse_i64(&buf[1..nl]) {
        Some(n) if n <= i32::MAX as i64 && n <= lim.max_args as i64 => n,
        _ => return Err(ProtocolError("invalid multibulk length".into())),
    };
    let mut pos = nl + 2;
    if count <= 0 {
        return Ok(Parsed::Request(Vec::new(), pos));
    }
    let count = count as usize;
    // Bounded preallocation: the count is the peer's word.
    let mut args = Vec::with_capacity(count.min(64));
    while args.len() < count {
        let Some(nl) = line_end(buf, pos) else {
            if buf.len() - pos > lim.max_inline {
                return Err(ProtocolError("too big bulk count string".into()));
            }
            return Ok(Parsed::Incomplete);
        };
        if buf[pos] != b'$' {
            return Err(ProtocolError(expected_dollar(buf[pos])));
        }
        let len = match parse_i64(&buf[pos + 1..nl]) {
            Some(n) if n >= 0 && n as u64 <= lim.max_bulk as u64 => n as usize,
            _ => return Err(ProtocolError("invalid bulk length".into())),
        };
        let start = nl + 2;
        // The data and the two bytes after it (Redis skips them unchecked).
        if buf.len() < start + len + 2 {
            return Ok(Parsed::Incomplete);
        }
        args.push(buf[start..start + len].to_vec());
        pos = start + len + 2;
    }
    Ok(Parsed::Request(args, pos))
}

/// Redis's "expected '$', got '%c'" with the byte in it (a byte outside
/// ASCII shows as `?`: our replies are text).
fn expected_dollar(got: u8) -> String {
    let c = if got.is_ascii() { got as char } else { '?' };
    format!("expected '$', got '{c}'")
}

fn parse_inline(buf: &[u8], lim: &Limits) -> Result<Parsed, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > lim.max_inline {
            return Err(ProtocolError("too big inline request".into()));
        }
        return Ok(Parsed::Incomplete);
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let args =
        split_args(line).ok_or_else(|| ProtocolError("unbalanced quotes in request".into()))?;
    Ok(Parsed::Request(args, nl + 1))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Redis's `sdssplitargs`: words separated by spaces; "double quotes" with
/// `\n \r \t \b \a \\ \"` and `\xHH` escapes; 'single quotes' with `\'`.
/// A closing quote must be followed by a space or the end.  None for
/// unbalanced quotes.
/// A NUL ends the line, as it ends the C string Redis splits.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let line = &line[..line.iter().position(|&b| b == 0).unwrap_or(line.len())];
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut cur = Vec::new();
        let (mut inq, mut insq) = (false, false);
        loop {
            if inq {
                if i >= line.len() {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < line.len()
                    && line[i + 1] == b'x'
                    && hex_val(line[i + 2]).is_some()
                    && hex_val(line[i + 3]).is_some()
                {
                    cur.push(hex_val(line[i + 2])? * 16 + hex_val(line[i + 3])?);
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < line.len() {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < line.len() && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= line.len() {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < line.len() && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < line.len() && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= line.len() {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

// ---------------------------------------------------------------------------
// Replies.

/// `+OK`-style simple string.
pub fn simple(out: &mut Vec<u8>, s: &str) {
    out.push(b'+');
    out.extend_from_slice(s.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// An error reply; `msg` starts with its code (`ERR ...`, `OOM ...`).
/// Line ends in it become spaces, as Redis does, so that the reply stays
/// one line whatever the client sent.
pub fn error(out: &mut Vec<u8>, msg: &str) {
    out.push(b'-');
    out.extend(
        msg.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

pub fn integer(out: &mut Vec<u8>, v: i64) {
    out.push(b':');
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

pub fn bulk(out: &mut Vec<u8>, data: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(data.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The null bulk string `$-1`.
pub fn nil(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

pub fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(n.to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
        match parse(buf, &Limits::default()) {
            Ok(Parsed::Request(a, n)) => (a, n),
            other => panic!("{:?} on {:?}", other, String::from_utf8_lossy(buf)),
        }
    }

    fn strs(a: &[Vec<u8>]) -> Vec<&str> {
        a.iter().map(|v| std::str::from_utf8(v).unwrap()).collect()
    }

    #[test]
    fn multibulk_whole_and_in_pieces() {
        let m = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n";
        let (a, n) = req(m);
        assert_eq!(strs(&a), ["SET", "k", "hello"]);
        assert_eq!(n, 31);
        let (a, n2) = req(&m[n..]);
        assert_eq!(strs(&a), ["PING"]);
        assert_eq!(n + n2, m.len());
        // Every proper prefix of the first request is incomplete.
        for cut in 0..n {
            assert_eq!(
                parse(&m[..cut], &Limits::default()),
                Ok(Parsed::Incomplete),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn binary_values_and_empty_requests() {
        let (a, _) = req(b"*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\0\xff\r\n");
        assert_eq!(a[1], b"\r\n\0\xff");
        assert_eq!(req(b"*0\r\n"), (vec![], 4));
        assert_eq!(req(b"*-1\r\n"), (vec![], 5));
        assert_eq!(req(b"\r\n"), (vec![], 2));
        assert_eq!(req(b"   \n"), (vec![], 4));
    }

    #[test]
    fn inline_with_quotes() {
        let (a, n) = req(b"SET k \"a b\\x41\\n\" \r\nGET k\r\n");
        assert_eq!(a, vec![b"SET".to_vec(), b"k".to_vec(), b"a bA\n".to_vec()]);
        assert_eq!(n, 20);
        let (a, _) = req(b"ECHO 'it\\'s'\n");
        assert_eq!(strs(&a), ["ECHO", "it's"]);
        let (a, _) = req(b"PING\n");
        assert_eq!(strs(&a), ["PING"]);
        for bad in [&b"ECHO \"abc\n"[..], b"ECHO \"a\"b\n", b"ECHO 'x\n"] {
            assert_eq!(
                parse(bad, &Limits::default()),
                Err(ProtocolError("unbalanced quotes in request".into()))
            );
        }
    }

    #[test]
    fn protocol_errors_as_redis_words_them() {
        let l = Limits::default();
        let e = |b: &[u8]| parse(b, &l).unwrap_err().message();
        assert_eq!(e(b"*x\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(
            e(b"*1\r\n$-5\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            e(b"*1\r\n$2000000\r\n"),
            "ERR Protocol error: invalid bulk length"
        );
        assert_eq!(
            e(b"*1\r\n:1\r\n"),
            "ERR Protocol error: expected '$', got ':'"
        );
        let long = vec![b'a'; 70_000];
        assert_eq!(e(&long), "ERR Protocol error: too big inline request");
        let mut mb = b"*".to_vec();
        mb.extend(vec![b'1'; 70_000]);
        assert_eq!(e(&mb), "ERR Protocol error: too big mbulk count string");
        let mut bb = b"*1\r\n$".to_vec();
        bb.extend(vec![b'1'; 70_000]);
        assert_eq!(e(&bb), "ERR Protocol error: too big bulk count string");
    }

    #[test]
    fn integers_parse_as_redis_string2ll() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("01", None),
            ("-0", None),
            ("+1", None),
            (" 1", None),
            ("", None),
            ("-", None),
        ] {
            assert_eq!(parse_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn huge_counts_do_not_allocate() {
        // A count of a million arguments with none sent: incomplete, and
        // no million-slot vector behind it.
        assert_eq!(
            parse(b"*1000000\r\n", &Limits::default()),
            Ok(Parsed::Incomplete)
        );
        assert!(parse(b"*2000000\r\n", &Limits::default()).is_err());
    }

    #[test]
    fn replies_encode() {
        let mut o = Vec::new();
        simple(&mut o, "OK");
        error(&mut o, "ERR a\r\nb");
        integer(&mut o, -3);
        bulk(&mut o, b"x");
        nil(&mut o);
        array(&mut o, 2);
        assert_eq!(o, b"+OK\r\n-ERR a  b\r\n:-3\r\n$1\r\nx\r\n$-1\r\n*2\r\n");
    }

    /// The proptests' configuration: 2000 cases from the seed `TOE_SEED`
    /// (default 1), printed so that a failing run can be replayed, as the
    /// project's other randomized tests do.
    fn config() -> ProptestConfig {
        let seed = std::env::var("TOE_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1u64);
        println!("seed {seed} (replay with TOE_SEED={seed})");
        ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// Arbitrary bytes never panic the parser; a request it returns
        /// never claims more bytes than it was given, and parsing the same
        /// bytes split anywhere gives the same result once whole.
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512),
                                       cut in 0usize..512) {
            let lim = Limits { max_bulk: 64, max_args: 16, max_inline: 128 };
            let whole = parse(&data, &lim);
            if let Ok(Parsed::Request(_, n)) = &whole {
                prop_assert!(*n <= data.len());
            }
            let cut = cut.min(data.len());
            if let Ok(Parsed::Request(a, n)) = parse(&data[..cut], &lim) {
                // A request complete in a prefix is the same in the whole.
                prop_assert_eq!(whole, Ok(Parsed::Request(a, n)));
            }
        }

        /// Requests encoded as clients encode them come back whole and in
        /// order; any prefix of the stream is incomplete or holds the first
        /// request within it; a flipped byte never panics the parser nor
        /// makes it claim bytes it was not given.
        #[test]
        fn encoded_requests_round_trip(
            reqs in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 1..5),
                1..4),
            inline in proptest::collection::vec("[a-zA-Z0-9:_]{1,8}", 1..5),
            cut in any::<proptest::sample::Index>(),
            flip in any::<(proptest::sample::Index, u8)>(),
        ) {
            let lim = Limits::default();
            let mut stream = Vec::new();
            let mut firsts = Vec::new();
            for r in &reqs {
                array(&mut stream, r.len());
                for a in r {
                    bulk(&mut stream, a);
                }
                firsts.push(stream.len());
            }
            stream.extend_from_slice(inline.join(" ").as_bytes());
            stream.extend_from_slice(b"\r\n");
            let mut want: Vec<Vec<Vec<u8>>> = reqs.clone();
            want.push(inline.iter().map(|w| w.as_bytes().to_vec()).collect());
            let mut rest = &stream[..];
            for w in &want {
                match parse(rest, &lim) {
                    Ok(Parsed::Request(a, n)) => {
                        prop_assert_eq!(&a, w);
                        rest = &rest[n..];
                    }
                    other => prop_assert!(false, "{:?} for {:?}", other, w),
                }
            }
            prop_assert!(rest.is_empty());
            let c = cut.index(stream.len() + 1);
            match parse(&stream[..c], &lim) {
                Ok(Parsed::Incomplete) => prop_assert!(c < firsts[0]),
                Ok(Parsed::Request(a, n)) => {
                    prop_assert!(n <= c && n == firsts[0]);
                    prop_assert_eq!(&a, &reqs[0]);
                }
                Err(e) => prop_assert!(false, "{:?} on a prefix", e),
            }
            let mut m = stream.clone();
            let i = flip.0.index(m.len());
            m[i] ^= flip.1.max(1);
            let mut rest = &m[..];
            for _ in 0..16 {
                match parse(rest, &lim) {
                    Ok(Parsed::Request(_, n)) => {
                        prop_assert!(n > 0 && n <= rest.len());
                        rest = &rest[n..];
                    }
                    _ => break,
                }
            }
        }

        /// Biased towards protocol-looking input: fragments of RESP glued
        /// together.
        #[test]
        fn resp_like_bytes_never_panic(parts in proptest::collection::vec(
            prop_oneof![
                Just(b"*".to_vec()), Just(b"$".to_vec()), Just(b"\r\n".to_vec()),
                Just(b"\"".to_vec()), Just(b"'".to_vec()), Just(b"\\x".to_vec()),
                Just(b"-1".to_vec()), Just(b"3".to_vec()), Just(b" ".to_vec()),
                Just(b"99999999999999999999".to_vec()), Just(b"SET".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..4),
            ], 0..40)) {
            let data: Vec<u8> = parts.concat();
            let lim = Limits { max_bulk: 64, max_args: 16, max_inline: 128 };
            let mut rest = &data[..];
            // Consume request after request as a connection would.
            for _ in 0..64 {
                match parse(rest, &lim) {
                    Ok(Parsed::Request(_, n)) => {
                        prop_assert!(n > 0 && n <= rest.len());
                        rest = &rest[n..];
                    }
                    _ => break,
                }
            }
        }
    }
}
