//! The commands: one request's arguments in, its reply out, as Redis 7.0
//! words its replies (arity, syntax and type errors included), so that
//! `redis-cli` prints the same thing against us as against `redis-server`.
use crate::resp::{self, parse_i64};
use crate::store::{IncrError, OutOfMemory, Store};

/// What a command needs besides the store.
pub struct Ctx<'a> {
    /// Now, in ms since the Unix epoch (EXAT/PXAT are absolute), on the
    /// server's clock; the store's deadlines are on the same scale.
    pub now_ms: u64,
    /// CONFIG GET's parameters: (name, value).
    pub config: &'a [(&'a str, String)],
    /// INFO's text for the section argument ("" for the default set).
    pub info: &'a dyn Fn(&mut Store, &str) -> String,
}

/// What the connection does after the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Send the reply, then close (QUIT).
    Close,
}

/// Commands and their arity as Redis counts it (the name included;
/// negative: at least that many).
const COMMANDS: &[(&str, i32)] = &[
    ("ping", -1),
    ("echo", 2),
    ("get", 2),
    ("set", -3),
    ("del", -2),
    ("exists", -2),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("mget", -2),
    ("mset", -3),
    ("expire", -3),
    ("pexpire", -3),
    ("ttl", 2),
    ("pttl", 2),
    ("info", -1),
    ("config", -2),
    ("dbsize", 1),
    ("flushall", -1),
    ("flushdb", -1),
    ("select", 2),
    ("command", -1),
    ("quit", -1),
];

const SYNTAX: &str = "ERR syntax error";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn arity_error(out: &mut Vec<u8>, name: &str) {
    resp::error(
        out,
        &format!("ERR wrong number of arguments for '{name}' command"),
    );
}

/// Redis's reply to an unknown command: its name and the start of its
/// arguments, each cut so that the list stays about 128 bytes.
fn unknown_command(out: &mut Vec<u8>, args: &[Vec<u8>]) {
    let mut list = String::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        let s = String::from_utf8_lossy(&a[..a.len().min(room)]).into_owned();
        list.push_str(&format!("'{s}' "));
    }
    let name = String::from_utf8_lossy(&args[0][..args[0].len().min(128)]).into_owned();
    resp::error(
        out,
        &format!("ERR unknown command '{name}', with args beginning with: {list}"),
    );
}

fn lower(a: &[u8]) -> String {
    String::from_utf8_lossy(a).to_ascii_lowercase()
}

/// Runs one request (`args` not empty) and appends its reply to `out`.
pub fn execute(db: &mut Store, args: &[Vec<u8>], ctx: &Ctx, out: &mut Vec<u8>) -> Flow {
    debug_assert!(!args.is_empty());
    let name = lower(&args[0]);
    let Some(&(name, arity)) = COMMANDS.iter().find(|(n, _)| *n == name) else {
        unknown_command(out, args);
        return Flow::Continue;
    };
    let n = args.len() as i32;
    if (arity > 0 && n != arity) || (arity < 0 && n < -arity) {
        arity_error(out, name);
        return Flow::Continue;
    }
    let now = ctx.now_ms;
    match name {
        "ping" => match args.len() {
            1 => resp::simple(out, "PONG"),
            2 => resp::bulk(out, &args[1]),
            _ => arity_error(out, name),
        },
        "echo" => resp::bulk(out, &args[1]),
        "get" => match db.get(&args[1], now) {
            Some(v) => resp::bulk(out, v),
            None => resp::nil(out),
        },
        "set" => set(db, args, now, out),
        "del" => {
            let n = args[1..].iter().filter(|k| db.del(k, now)).count();
            resp::integer(out, n as i64);
        }
        "exists" => {
            let n = args[1..].iter().filter(|k| db.exists(k, now)).count();
            resp::integer(out, n as i64);
        }
        "incr" | "decr" | "incrby" | "decrby" => {
            let by = match name {
                "incr" => 1,
                "decr" => -1,
                _ => match parse_i64(&args[2]) {
                    None => return err(out, NOT_INT),
                    Some(i64::MIN) if name == "decrby" => {
                        return err(out, "ERR decrement would overflow")
                    }
                    Some(v) if name == "decrby" => -v,
                    Some(v) => v,
                },
            };
            match db.incr_by(&args[1], by, now) {
                Ok(v) => resp::integer(out, v),
                Err(IncrError::NotInteger) => resp::error(out, NOT_INT),
                Err(IncrError::Overflow) => {
                    resp::error(out, "ERR increment or decrement would overflow")
                }
                Err(IncrError::Oom) => resp::error(out, OOM),
            }
        }
        "mget" => {
            resp::array(out, args.len() - 1);
            for k in &args[1..] {
                match db.get(k, now) {
                    Some(v) => resp::bulk(out, v),
                    None => resp::nil(out),
                }
            }
        }
        "mset" => {
            if args.len().is_multiple_of(2) {
                arity_error(out, name);
            } else {
                let pairs: Vec<(&[u8], &[u8])> = args[1..]
                    .chunks(2)
                    .map(|p| (p[0].as_slice(), p[1].as_slice()))
                    .collect();
                match db.mset(&pairs, now) {
                    Ok(()) => resp::simple(out, "OK"),
                    Err(OutOfMemory) => resp::error(out, OOM),
                }
            }
        }
        "expire" | "pexpire" => expire(db, args, name, now, out),
        "ttl" | "pttl" => match db.deadline(&args[1], now) {
            None => resp::integer(out, -2),
            Some(None) => resp::integer(out, -1),
            Some(Some(t)) => {
                let ms = t.saturating_sub(now) as i64;
                resp::integer(
                    out,
                    if name == "pttl" {
                        ms
                    } else {
                        (ms + 500) / 1000
                    },
                );
            }
        },
        "info" => {
            let section = args.get(1).map(|s| lower(s)).unwrap_or_default();
            let text = (ctx.info)(db, &section);
            resp::bulk(out, text.as_bytes());
        }
        "config" => config(args, ctx, out),
        "dbsize" => {
            db.expire_some(now, usize::MAX);
            resp::integer(out, db.len() as i64);
        }
        "flushall" | "flushdb" => {
            if args.len() > 2
                || (args.len() == 2 && !matches!(lower(&args[1]).as_str(), "sync" | "async"))
            {
                resp::error(out, SYNTAX);
            } else {
                db.flush();
                resp::simple(out, "OK");
            }
        }
        "select" => match parse_i64(&args[1]) {
            None => resp::error(out, "ERR invalid DB index"),
            Some(0) => resp::simple(out, "OK"),
            Some(_) => resp::error(out, "ERR DB index is out of range"),
        },
        "command" => match args.get(1).map(|a| lower(a)).as_deref() {
            // What interactive redis-cli asks for its hints: none here.
            None | Some("docs") | Some("info") => resp::array(out, 0),
            Some("count") => resp::integer(out, COMMANDS.len() as i64),
            Some(other) => resp::error(
                out,
                &format!("ERR unknown subcommand '{other}'. Try COMMAND HELP."),
            ),
        },
        "quit" => {
            resp::simple(out, "OK");
            return Flow::Close;
        }
        _ => unreachable!("every command of the table is handled"),
    }
    Flow::Continue
}

fn err(out: &mut Vec<u8>, msg: &str) -> Flow {
    resp::error(out, msg);
    Flow::Continue
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL], with
/// Redis 7.0's option rules (parseExtendedStringArgumentsOrReply).
fn set(db: &mut Store, args: &[Vec<u8>], now: u64, out: &mut Vec<u8>) {
    let (mut nx, mut xx, mut get, mut keepttl) = (false, false, false, false);
    // (unit in ms, absolute, the argument)
    let mut expire: Option<(&str, &[u8])> = None;
    let mut i = 3;
    while i < args.len() {
        let opt = lower(&args[i]);
        let next = args.get(i + 1);
        let other_expire = |kind: &str| expire.is_some_and(|(k, _)| k != kind);
        match opt.as_str() {
            "nx" if !xx => nx = true,
            "xx" if !nx => xx = true,
            "get" => get = true,
            "keepttl" if expire.is_none() => keepttl = true,
            "ex" | "px" | "exat" | "pxat" if !keepttl && !other_expire(&opt) && next.is_some() => {
                let kind = match opt.as_str() {
                    "ex" => "ex",
                    "px" => "px",
                    "exat" => "exat",
                    _ => "pxat",
                };
                expire = Some((kind, next.expect("checked")));
                i += 1;
            }
            _ => return resp::error(out, SYNTAX),
        }
        i += 1;
    }
    let deadline = match expire {
        None => None,
        Some((kind, arg)) => match expire_ms(kind, arg, now) {
            Ok(t) => Some(t),
            Err(e) => return resp::error(out, &e.replace("%s", "set")),
        },
    };
    let found = db.exists(&args[1], now);
    // SET ... GET replies with the old value instead of OK.
    let old: Option<Option<Vec<u8>>> = get.then(|| db.get(&args[1], now).map(<[u8]>::to_vec));
    let reply_old = |out: &mut Vec<u8>, old: Option<Vec<u8>>| match old {
        Some(v) => resp::bulk(out, &v),
        None => resp::nil(out),
    };
    if (nx && found) || (xx && !found) {
        match old {
            Some(o) => reply_old(out, o),
            None => resp::nil(out),
        }
        return;
    }
    match db.set(&args[1], args[2].clone(), deadline, keepttl, now) {
        Ok(()) => match old {
            Some(o) => reply_old(out, o),
            None => resp::simple(out, "OK"),
        },
        Err(OutOfMemory) => resp::error(out, OOM),
    }
}

/// The absolute deadline (ms) of SET's expire option; the error text with
/// `%s` for the command name.
fn expire_ms(kind: &str, arg: &[u8], now: u64) -> Result<u64, String> {
    let v = parse_i64(arg).ok_or(NOT_INT.to_string())?;
    let invalid = || "ERR invalid expire time in '%s' command".to_string();
    let seconds = kind == "ex" || kind == "exat";
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(invalid());
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if kind == "ex" || kind == "px" {
        ms = ms.checked_add(now as i64).ok_or_else(invalid)?;
    }
    Ok(ms as u64)
}

/// EXPIRE / PEXPIRE key time [NX|XX|GT|LT] (Redis 7.0 expireGenericCommand).
fn expire(db: &mut Store, args: &[Vec<u8>], name: &str, now: u64, out: &mut Vec<u8>) {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &args[3..] {
        match lower(a).as_str() {
            "nx" => nx = true,
            "xx" => xx = true,
            "gt" => gt = true,
            "lt" => lt = true,
            _ => {
                return resp::error(
                    out,
                    &format!("ERR Unsupported option {}", String::from_utf8_lossy(a)),
                )
            }
        }
    }
    if nx && (xx || gt || lt) {
        return resp::error(
            out,
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        );
    }
    if gt && lt {
        return resp::error(
            out,
            "ERR GT and LT options at the same time are not compatible",
        );
    }
    let Some(mut when) = parse_i64(&args[2]) else {
        return resp::error(out, NOT_INT);
    };
    let invalid = format!("ERR invalid expire time in '{name}' command");
    if name == "expire" {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return resp::error(out, &invalid);
        }
        when *= 1000;
    }
    let Some(when) = when.checked_add(now as i64) else {
        return resp::error(out, &invalid);
    };
    let Some(current) = db.deadline(&args[1], now) else {
        return resp::integer(out, 0);
    };
    let refused = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c as i64))
        || (lt && current.is_some_and(|c| when >= c as i64));
    if refused {
        return resp::integer(out, 0);
    }
    // A deadline in the past deletes the key (set_deadline does).
    match db.set_deadline(&args[1], Some(when.max(0) as u64), now) {
        Ok(true) => resp::integer(out, 1),
        Ok(false) => resp::integer(out, 0),
        Err(OutOfMemory) => resp::error(out, OOM),
    }
}

/// Redis's `stringmatch` subset for CONFIG GET: `*`, `?`, literal bytes,
/// case-insensitive.
pub fn glob(pat: &[u8], s: &[u8]) -> bool {
    match pat.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| glob(&pat[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && glob(&pat[1..], &s[1..]),
        Some(c) => !s.is_empty() && c.eq_ignore_ascii_case(&s[0]) && glob(&pat[1..], &s[1..]),
    }
}

fn config(args: &[Vec<u8>], ctx: &Ctx, out: &mut Vec<u8>) {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "get" if args.len() < 3 => arity_error(out, "config|get"),
        "get" => {
            let hits: Vec<&(&str, String)> = ctx
                .config
                .iter()
                .filter(|(n, _)| args[2..].iter().any(|p| glob(p, n.as_bytes())))
                .collect();
            resp::array(out, 2 * hits.len());
            for (n, v) in hits {
                resp::bulk(out, n.as_bytes());
                resp::bulk(out, v.as_bytes());
            }
        }
        "set" | "resetstat" | "rewrite" => resp::error(
            out,
            &format!(
                "ERR CONFIG {} is not supported by this server",
                sub.to_uppercase()
            ),
        ),
        _ => resp::error(
            out,
            &format!(
                "ERR unknown subcommand '{}'. Try CONFIG HELP.",
                String::from_utf8_lossy(&args[1])
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(db: &mut Store, now: u64, line: &str) -> String {
        let args = resp::split_args(line.as_bytes()).unwrap();
        let cfg = [("save", String::new()), ("appendonly", "no".to_string())];
        let info = |_: &mut Store, s: &str| format!("# {s}\r\n");
        let ctx = Ctx {
            now_ms: now,
            config: &cfg,
            info: &info,
        };
        let mut out = Vec::new();
        execute(db, &args, &ctx, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn basic_replies() {
        let mut db = Store::new(1 << 20);
        let t = 1_700_000_000_000;
        assert_eq!(run(&mut db, t, "PING"), "+PONG\r\n");
        assert_eq!(run(&mut db, t, "ping hi"), "$2\r\nhi\r\n");
        assert_eq!(run(&mut db, t, "SET k v"), "+OK\r\n");
        assert_eq!(run(&mut db, t, "GET k"), "$1\r\nv\r\n");
        assert_eq!(run(&mut db, t, "GET nope"), "$-1\r\n");
        assert_eq!(run(&mut db, t, "SET k w NX"), "$-1\r\n");
        assert_eq!(run(&mut db, t, "SET n w XX"), "$-1\r\n");
        assert_eq!(run(&mut db, t, "SET k w XX GET"), "$1\r\nv\r\n");
        assert_eq!(run(&mut db, t, "EXISTS k k n"), ":2\r\n");
        assert_eq!(run(&mut db, t, "DEL k n"), ":1\r\n");
        assert_eq!(run(&mut db, t, "INCR c"), ":1\r\n");
        assert_eq!(run(&mut db, t, "INCRBY c 10"), ":11\r\n");
        assert_eq!(run(&mut db, t, "DECRBY c 2"), ":9\r\n");
        assert_eq!(run(&mut db, t, "DECR c"), ":8\r\n");
        assert_eq!(run(&mut db, t, "MSET a 1 b 2"), "+OK\r\n");
        assert_eq!(
            run(&mut db, t, "MGET a x b"),
            "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"
        );
        assert_eq!(run(&mut db, t, "DBSIZE"), ":3\r\n");
        assert_eq!(
            run(&mut db, t, "CONFIG GET save"),
            "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        );
        assert_eq!(
            run(&mut db, t, "config get APPEND*"),
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        );
        assert_eq!(run(&mut db, t, "FLUSHALL"), "+OK\r\n");
        assert_eq!(run(&mut db, t, "DBSIZE"), ":0\r\n");
        assert_eq!(run(&mut db, t, "INFO toe"), "$7\r\n# toe\r\n\r\n");
    }

    #[test]
    fn errors_as_redis_words_them() {
        let mut db = Store::new(1 << 20);
        let t = 1_700_000_000_000;
        assert_eq!(
            run(&mut db, t, "FOO a b"),
            "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
        );
        assert_eq!(
            run(&mut db, t, "nosuch"),
            "-ERR unknown command 'nosuch', with args beginning with: \r\n"
        );
        assert_eq!(
            run(&mut db, t, "GET"),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        assert_eq!(
            run(&mut db, t, "PING a b"),
            "-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(
            run(&mut db, t, "MSET a 1 b"),
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        assert_eq!(run(&mut db, t, "SET k v NX XX"), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut db, t, "SET k v EX 1 PX 1"),
            "-ERR syntax error\r\n"
        );
        assert_eq!(run(&mut db, t, "SET k v EX"), "-ERR syntax error\r\n");
        assert_eq!(
            run(&mut db, t, "SET k v EX x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            run(&mut db, t, "SET k v EX 0"),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(run(&mut db, t, "SET s abc"), "+OK\r\n");
        assert_eq!(
            run(&mut db, t, "INCR s"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(run(&mut db, t, "SET m 9223372036854775807"), "+OK\r\n");
        assert_eq!(
            run(&mut db, t, "INCR m"),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(
            run(&mut db, t, "EXPIRE m 10 XY"),
            "-ERR Unsupported option XY\r\n"
        );
        assert_eq!(
            run(&mut db, t, "EXPIRE m 10 NX XX"),
            "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
        );
        assert_eq!(
            run(&mut db, t, "EXPIRE m 9223372036854775807"),
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        assert_eq!(
            run(&mut db, t, "CONFIG GET"),
            "-ERR wrong number of arguments for 'config|get' command\r\n"
        );
    }

    #[test]
    fn expiry_follows_the_given_time() {
        let mut db = Store::new(1 << 20);
        let t = 1_700_000_000_000;
        assert_eq!(run(&mut db, t, "SET k v EX 10"), "+OK\r\n");
        assert_eq!(run(&mut db, t + 1, "TTL k"), ":10\r\n");
        assert_eq!(run(&mut db, t + 4_600, "TTL k"), ":5\r\n");
        assert_eq!(run(&mut db, t + 4_600, "PTTL k"), ":5400\r\n");
        assert_eq!(run(&mut db, t + 10_000, "GET k"), "$-1\r\n");
        assert_eq!(run(&mut db, t, "TTL k"), ":-2\r\n");
        assert_eq!(run(&mut db, t, "SET p v"), "+OK\r\n");
        assert_eq!(run(&mut db, t, "TTL p"), ":-1\r\n");
        assert_eq!(run(&mut db, t, "EXPIRE p 100 XX"), ":0\r\n");
        assert_eq!(run(&mut db, t, "EXPIRE p 100"), ":1\r\n");
        assert_eq!(run(&mut db, t, "EXPIRE p 50 GT"), ":0\r\n");
        assert_eq!(run(&mut db, t, "PEXPIRE p 50 LT"), ":1\r\n");
        assert_eq!(run(&mut db, t, "PTTL p"), ":50\r\n");
        assert_eq!(run(&mut db, t, "SET q v PXAT 1700000000100"), "+OK\r\n");
        assert_eq!(run(&mut db, t, "PTTL q"), ":100\r\n");
        assert_eq!(run(&mut db, t, "EXPIRE q -1"), ":1\r\n");
        assert_eq!(run(&mut db, t, "EXISTS q"), ":0\r\n");
        assert_eq!(run(&mut db, t, "EXPIRE q 5"), ":0\r\n");
    }

    #[test]
    fn oom_beyond_the_limit() {
        let mut db = Store::new(300);
        let t = 0;
        let big = "x".repeat(200);
        assert_eq!(run(&mut db, t, &format!("SET a {big}")), "+OK\r\n");
        let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
        assert_eq!(run(&mut db, t, &format!("SET b {big}")), oom);
        assert_eq!(run(&mut db, t, &format!("MSET c 1 d {big}")), oom);
        assert_eq!(run(&mut db, t, "EXISTS b c d"), ":0\r\n");
        assert_eq!(run(&mut db, t, "DEL a"), ":1\r\n");
        assert_eq!(run(&mut db, t, &format!("SET b {big}")), "+OK\r\n");
    }

    #[test]
    fn glob_matches_like_redis() {
        assert!(glob(b"*", b"save"));
        assert!(glob(b"sa?e", b"SAVE"));
        assert!(glob(b"max*", b"maxmemory-policy"));
        assert!(!glob(b"max", b"maxmemory"));
    }
}
