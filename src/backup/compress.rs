//! Compression of backups on every core, and verified decompression.
//!
//! **gzip** (the default) is written as a series of gzip members, like `pigz` and BGZF do:
//! the input is cut into [`CHUNK`]-sized pieces, each compressed on its own thread with
//! libdeflate (faster than zlib at the same level, with smaller output) into a member that
//! carries its own CRC-32 and length. `gunzip`, `zcat` and every gzip library read such a
//! file as one stream. Three kinds of member, told apart by a subfield of the gzip header's
//! extra field (RFC 1952 §2.3.1.1), which every gzip reader ignores:
//!
//! - `DM`: the first member, empty, whose subfield holds the [`Meta`] JSON;
//! - `DZ`: a data member; the subfield holds the member's length, so that restore can hand
//!   whole members to several threads at once;
//! - `DE`: the last member, empty, holding the total length of the data: a file cut short,
//!   even exactly between two members, is told apart from a complete one.
//!
//! **zstd** (`--compression zstd`) is one multithreaded zstd frame with its checksum,
//! between two skippable frames holding the same [`Meta`] and end marker; `zstd -d` skips them.
//!
//! Files that cargo-dbm did not write (e.g. `backup.sh`'s `gzip` output, or a plain SQLite
//! file) are read too, through a streaming decoder, so that they can be restored.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Input bytes per gzip member: large enough that restarting the dictionary costs nothing
/// measurable, small enough to keep both cores busy on small databases.
pub const CHUNK: usize = 4 << 20;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Skippable frame magic used for our metadata (`0x184D2A5?`, any nibble).
const ZSTD_SKIP_META: u32 = 0x184D_2A5D;
const ZSTD_SKIP_END: u32 = 0x184D_2A5E;
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const PGDMP_MAGIC: &[u8; 5] = b"PGDMP";

/// The compression of a backup file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    /// gzip, readable by `gunzip` (default).
    Gzip,
    /// zstd, smaller and faster; needs `zstd -d` to open by hand.
    Zstd,
}

impl Codec {
    /// The file extension after the content's (`db.gz`).
    pub fn ext(self) -> &'static str {
        match self {
            Codec::Gzip => "gz",
            Codec::Zstd => "zst",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
        }
    }

    /// The default level: gzip's own default (6), zstd's (3).
    pub fn default_level(self) -> i32 {
        match self {
            Codec::Gzip => 6,
            Codec::Zstd => 3,
        }
    }

    /// The accepted levels.
    pub fn levels(self) -> std::ops::RangeInclusive<i32> {
        match self {
            Codec::Gzip => 1..=12,
            Codec::Zstd => 1..=19,
        }
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "gzip" | "gz" => Ok(Codec::Gzip),
            "zstd" | "zst" => Ok(Codec::Zstd),
            other => Err(format!("unknown compression `{other}` (use gzip or zstd)")),
        }
    }
}

/// What a backup file says about itself, stored in its first member / frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Always `cargo-dbm`: marks the file as one of ours.
    pub tool: String,
    /// Version of the metadata layout.
    pub format: u32,
    /// The engine (`sqlite`, `postgres`, `mysql`).
    pub engine: crate::engine::Engine,
    /// The database's name (file name for SQLite).
    pub database: String,
    /// The latest applied migration at backup time, if any.
    pub head: Option<String>,
    /// How many migrations were applied.
    pub applied: usize,
    /// Unix milliseconds when the backup started.
    pub created_ms: i64,
    /// `backup`, or `before-restore` for the safety copy taken by restore.
    pub kind: super::Kind,
    /// The cargo-dbm version that wrote it.
    pub version: String,
    /// The server version (PostgreSQL) or SQLite library version.
    #[serde(default)]
    pub server_version: Option<String>,
}

impl Meta {
    pub const TOOL: &'static str = "cargo-dbm";
}

/// What the content of a backup is, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    Sqlite,
    PgCustom,
    /// The SQL text of `mariadb-dump` or `mysqldump`.
    MySqlDump,
    Unknown,
}

impl Content {
    pub fn sniff(head: &[u8]) -> Content {
        if head.starts_with(SQLITE_MAGIC) {
            Content::Sqlite
        } else if head.starts_with(PGDMP_MAGIC) {
            Content::PgCustom
        } else if [b"-- MariaDB dump".as_slice(), b"-- MySQL dump"]
            .iter()
            .any(|m| head.windows(m.len()).any(|w| w == *m))
        {
            Content::MySqlDump
        } else {
            Content::Unknown
        }
    }

    pub fn engine(self) -> Option<crate::engine::Engine> {
        use crate::engine::Engine;
        match self {
            Content::Sqlite => Some(Engine::Sqlite),
            Content::PgCustom => Some(Engine::Postgres),
            Content::MySqlDump => Some(Engine::MySql),
            Content::Unknown => None,
        }
    }

    /// Why this content cannot be restored into a database of `engine`: what it is, or,
    /// when unknown, `unknown` (what the engine expected).
    pub fn mismatch(self, engine: crate::engine::Engine, unknown: &str) -> String {
        let what = match self {
            Content::Sqlite => "a SQLite database",
            Content::PgCustom => "a PostgreSQL dump",
            Content::MySqlDump => "a MySQL/MariaDB dump",
            Content::Unknown => return unknown.to_string(),
        };
        format!("it is {what} and the database is {engine}")
    }
}

/// How a backup file is framed, from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Gzip,
    Zstd,
    /// Not compressed: a SQLite file or a custom-format dump as is.
    Plain,
    Unknown,
}

/// Why a file cannot be decompressed: the message for the user.
#[derive(Debug)]
pub enum DecodeError {
    /// Corrupt, truncated or not a backup.
    Invalid(String),
    /// Reading the file or writing the output failed.
    Io(io::Error),
}

impl From<io::Error> for DecodeError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                DecodeError::Invalid("the file is truncated (it ends in the middle of the data)".into())
            }
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
                DecodeError::Invalid(format!("the compressed data is corrupt ({e})"))
            }
            _ => DecodeError::Io(e),
        }
    }
}

fn invalid(msg: impl Into<String>) -> DecodeError {
    DecodeError::Invalid(msg.into())
}

/// Number of compression threads: every core.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 32)
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Compresses everything `input` yields into `out`, with `meta` in front. `progress` is
/// called with the number of input bytes consumed so far. Returns the input length.
pub fn compress(
    input: &mut (dyn Read + Send),
    out: &mut (dyn Write + Send),
    codec: Codec,
    level: i32,
    meta: &Meta,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<u64> {
    match codec {
        Codec::Gzip => gzip_compress(input, out, level, meta, progress),
        Codec::Zstd => zstd_compress(input, out, level, meta, progress),
    }
}

fn meta_json(meta: &Meta) -> Vec<u8> {
    serde_json::to_vec(meta).unwrap_or_default()
}

/// An empty gzip member whose extra field holds one subfield `id` with `payload`.
fn gzip_marker(id: [u8; 2], payload: &[u8]) -> Vec<u8> {
    // An empty deflate stream: one final fixed-Huffman block with just end-of-block.
    gzip_member(id, payload, &[0x03, 0x00], 0, 0)
}

/// One gzip member: header with FEXTRA (`id` + `payload`), raw deflate data, CRC-32, ISIZE.
fn gzip_member(id: [u8; 2], payload: &[u8], deflate: &[u8], crc: u32, isize: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(22 + payload.len() + deflate.len());
    // magic, CM=deflate, FLG=FEXTRA, MTIME=0, XFL=0, OS=3 (Unix)
    m.extend_from_slice(&[0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 3]);
    let sub_len = payload.len() as u16;
    m.extend_from_slice(&(sub_len + 4).to_le_bytes());
    m.extend_from_slice(&id);
    m.extend_from_slice(&sub_len.to_le_bytes());
    m.extend_from_slice(payload);
    m.extend_from_slice(deflate);
    m.extend_from_slice(&crc.to_le_bytes());
    m.extend_from_slice(&isize.to_le_bytes());
    m
}

/// A data member: the `DZ` subfield holds the whole member's length.
fn gzip_data_member(deflate: &[u8], crc: u32, isize: u32) -> Vec<u8> {
    let total = (10 + 2 + 4 + 4 + deflate.len() + 8) as u32;
    gzip_member(*b"DZ", &total.to_le_bytes(), deflate, crc, isize)
}

/// Reads up to `CHUNK` bytes (fewer only at the end).
fn read_chunk(input: &mut (dyn Read + Send), size: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(size);
    input.take(size as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Runs `work` on every chunk of `input` on [`threads`] threads, writing the results to
/// `out` in order. The reading happens on the calling thread.
fn parallel_chunks(
    input: &mut (dyn Read + Send),
    out: &mut (dyn Write + Send),
    chunk: usize,
    progress: &(dyn Fn(u64) + Sync),
    work: &(dyn Fn(&[u8]) -> io::Result<Vec<u8>> + Sync),
) -> io::Result<u64> {
    let n = threads();
    std::thread::scope(|s| {
        let (job_tx, job_rx): (SyncSender<(u64, Vec<u8>)>, Receiver<_>) = sync_channel(n * 2);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, io::Result<Vec<u8>>)>(n * 2);
        for _ in 0..n {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((i, data))) = job else { break };
                    if done_tx.send((i, work(&data))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let writer = s.spawn(move || -> io::Result<()> {
            let mut next = 0u64;
            let mut pending = BTreeMap::new();
            for (i, r) in done_rx {
                pending.insert(i, r?);
                while let Some(data) = pending.remove(&next) {
                    out.write_all(&data)?;
                    next += 1;
                }
            }
            Ok(())
        });
        let mut total = 0u64;
        let mut i = 0u64;
        let read_result = loop {
            let data = match read_chunk(input, chunk) {
                Ok(d) => d,
                Err(e) => break Err(e),
            };
            if data.is_empty() {
                break Ok(());
            }
            total += data.len() as u64;
            if job_tx.send((i, data)).is_err() {
                break Ok(()); // the writer failed; its error is reported below
            }
            i += 1;
            progress(total);
        };
        drop(job_tx);
        let write_result = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("a compression thread panicked")));
        read_result?;
        write_result?;
        Ok(total)
    })
}

fn gzip_compress(
    input: &mut (dyn Read + Send),
    out: &mut (dyn Write + Send),
    level: i32,
    meta: &Meta,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<u64> {
    let level = libdeflater::CompressionLvl::new(level)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "bad gzip level"))?;
    out.write_all(&gzip_marker(*b"DM", &meta_json(meta)))?;
    let work = |data: &[u8]| -> io::Result<Vec<u8>> {
        let mut c = libdeflater::Compressor::new(level);
        let mut buf = vec![0u8; c.deflate_compress_bound(data.len())];
        let len = c
            .deflate_compress(data, &mut buf)
            .map_err(|e| io::Error::other(format!("deflate: {e:?}")))?;
        buf.truncate(len);
        let mut crc = libdeflater::Crc::new();
        crc.update(data);
        Ok(gzip_data_member(&buf, crc.sum(), data.len() as u32))
    };
    let total = parallel_chunks(input, out, CHUNK, progress, &work)?;
    out.write_all(&gzip_marker(*b"DE", &total.to_le_bytes()))?;
    out.flush()?;
    Ok(total)
}

fn zstd_skippable(magic: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&magic.to_le_bytes());
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(payload);
    f
}

/// Counts what passes through, for the progress bar.
struct Counting<'a> {
    inner: &'a mut (dyn Read + Send),
    n: u64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        (self.progress)(self.n);
        Ok(k)
    }
}

fn zstd_compress(
    input: &mut (dyn Read + Send),
    out: &mut (dyn Write + Send),
    level: i32,
    meta: &Meta,
    progress: &(dyn Fn(u64) + Sync),
) -> io::Result<u64> {
    out.write_all(&zstd_skippable(ZSTD_SKIP_META, &meta_json(meta)))?;
    let mut counting = Counting {
        inner: input,
        n: 0,
        progress,
    };
    {
        let mut enc = zstd::stream::write::Encoder::new(&mut *out, level)?;
        enc.include_checksum(true)?;
        enc.multithread(threads() as u32)?;
        io::copy(&mut counting, &mut enc)?;
        enc.finish()?;
    }
    let total = counting.n;
    out.write_all(&zstd_skippable(ZSTD_SKIP_END, &total.to_le_bytes()))?;
    out.flush()?;
    Ok(total)
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// The framing and, for our own files, the metadata; reads only the first bytes.
pub fn read_header(file: &mut std::fs::File) -> io::Result<(Framing, Option<Meta>)> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(64 * 1024);
    file.take(64 * 1024).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(sniff(&head))
}

fn sniff(head: &[u8]) -> (Framing, Option<Meta>) {
    if head.starts_with(&GZIP_MAGIC) {
        let meta = parse_gzip_header(head)
            .ok()
            .and_then(|h| h.sub.filter(|(id, _)| id == b"DM"))
            .and_then(|(_, p)| serde_json::from_slice::<Meta>(&p).ok())
            .filter(|m| m.tool == Meta::TOOL);
        return (Framing::Gzip, meta);
    }
    if head.len() >= 8 && u32::from_le_bytes(head[0..4].try_into().unwrap()) == ZSTD_SKIP_META {
        let len = u32::from_le_bytes(head[4..8].try_into().unwrap()) as usize;
        let meta = head
            .get(8..8 + len)
            .and_then(|p| serde_json::from_slice::<Meta>(p).ok())
            .filter(|m| m.tool == Meta::TOOL);
        return (Framing::Zstd, meta);
    }
    if head.starts_with(&ZSTD_MAGIC)
        || (head.len() >= 4 && (u32::from_le_bytes(head[0..4].try_into().unwrap()) & 0xFFFF_FFF0) == 0x184D_2A50)
    {
        return (Framing::Zstd, None);
    }
    if Content::sniff(head) != Content::Unknown {
        return (Framing::Plain, None);
    }
    (Framing::Unknown, None)
}

/// A parsed gzip member header.
struct GzHeader {
    /// Header length in bytes.
    len: usize,
    /// Our subfield (`DM`, `DZ`, `DE`), if present.
    sub: Option<([u8; 2], Vec<u8>)>,
}

/// Parses a gzip member header at the start of `b`.
fn parse_gzip_header(b: &[u8]) -> Result<GzHeader, DecodeError> {
    let short = || invalid("the file is truncated (in a gzip header)");
    if b.len() < 10 {
        return Err(short());
    }
    if b[0..2] != GZIP_MAGIC || b[2] != 8 {
        return Err(invalid("the file is corrupt: a gzip header was expected"));
    }
    let flg = b[3];
    let mut pos = 10;
    let mut sub = None;
    if flg & 0x04 != 0 {
        let xlen = u16::from_le_bytes(b.get(pos..pos + 2).ok_or_else(short)?.try_into().unwrap()) as usize;
        pos += 2;
        let extra = b.get(pos..pos + xlen).ok_or_else(short)?;
        let mut i = 0;
        while i + 4 <= extra.len() {
            let id = [extra[i], extra[i + 1]];
            let l = u16::from_le_bytes([extra[i + 2], extra[i + 3]]) as usize;
            let p = extra
                .get(i + 4..i + 4 + l)
                .ok_or_else(|| invalid("the file is corrupt: bad gzip extra field"))?;
            if matches!(&id, b"DM" | b"DZ" | b"DE") {
                sub = Some((id, p.to_vec()));
            }
            i += 4 + l;
        }
        pos += xlen;
    }
    for flag in [0x08u8, 0x10] {
        // FNAME, FCOMMENT: zero-terminated
        if flg & flag != 0 {
            let end = b[pos..].iter().position(|&c| c == 0).ok_or_else(short)?;
            pos += end + 1;
        }
    }
    if flg & 0x02 != 0 {
        pos += 2; // FHCRC
    }
    if pos > b.len() {
        return Err(short());
    }
    Ok(GzHeader { len: pos, sub })
}

/// Decompresses `file` into `out`, verifying every checksum, and returns the number of
/// bytes written. Our own gzip files are inflated on every core; anything else streams.
/// `progress` gets the number of compressed bytes read so far.
pub fn decompress(
    file: &mut std::fs::File,
    out: &mut (dyn Write + Send),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, DecodeError> {
    let (framing, meta) = read_header(file)?;
    match (framing, meta.is_some()) {
        (Framing::Gzip, true) => gzip_parallel_decompress(file, out, progress),
        (Framing::Gzip, false) => {
            let mut r = CountingRead {
                inner: io::BufReader::with_capacity(1 << 20, &mut *file),
                n: 0,
                progress,
            };
            let mut dec = flate2::read::MultiGzDecoder::new(&mut r);
            Ok(io::copy(&mut dec, out)?)
        }
        (Framing::Zstd, has_meta) => zstd_decompress(file, out, has_meta, progress),
        (Framing::Plain, _) => {
            let mut r = CountingRead {
                inner: &mut *file,
                n: 0,
                progress,
            };
            Ok(io::copy(&mut r, out)?)
        }
        (Framing::Unknown, _) => Err(invalid(
            "it is not a backup: neither gzip nor zstd, nor a SQLite database or PostgreSQL custom-format dump",
        )),
    }
}

struct CountingRead<'a, R> {
    inner: R,
    n: u64,
    progress: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for CountingRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n += k as u64;
        (self.progress)(self.n);
        Ok(k)
    }
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], what: &str) -> Result<(), DecodeError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => invalid(format!("the file is truncated ({what})")),
        _ => DecodeError::Io(e),
    })
}

fn gzip_parallel_decompress(
    file: &mut std::fs::File,
    out: &mut (dyn Write + Send),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, DecodeError> {
    let mut r = io::BufReader::with_capacity(1 << 20, &mut *file);
    let n = threads();
    std::thread::scope(|s| -> Result<u64, DecodeError> {
        let (job_tx, job_rx) = sync_channel::<(u64, Vec<u8>, usize)>(n * 2);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, Result<Vec<u8>, DecodeError>)>(n * 2);
        for _ in 0..n {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            s.spawn(move || {
                loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((i, member, hlen))) = job else {
                        break;
                    };
                    if done_tx.send((i, inflate_member(&member, hlen))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let writer = s.spawn(move || write_in_order(done_rx, out));
        // Read member by member on this thread.
        let mut members = Members {
            read: 0,
            next: 0,
            end: None,
        };
        let read_result = members.send_all(&mut r, &job_tx, progress);
        drop(job_tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(DecodeError::Io(io::Error::other("a decompression thread panicked"))));
        // A writer error (corrupt member, full disk) is the more precise one.
        let written = written?;
        read_result?;
        match members.end {
            None => Err(invalid(
                "the file is truncated (its end marker is missing: the backup was cut short)",
            )),
            Some(t) if t != written => Err(invalid(format!(
                "the file is corrupt: {written} bytes decompressed, the end marker says {t}"
            ))),
            Some(_) => Ok(written),
        }
    })
}

/// Inflates one gzip member (its header is `header_len` bytes) and checks its length and
/// CRC-32.
fn inflate_member(member: &[u8], header_len: usize) -> Result<Vec<u8>, DecodeError> {
    let body = &member[header_len..member.len() - 8];
    let t = &member[member.len() - 8..];
    let crc = u32::from_le_bytes(t[0..4].try_into().unwrap());
    let isize = u32::from_le_bytes(t[4..8].try_into().unwrap()) as usize;
    if isize > 64 * CHUNK {
        return Err(invalid(
            "the file is corrupt: a gzip member claims an impossible length",
        ));
    }
    let mut buf = vec![0u8; isize];
    let mut d = libdeflater::Decompressor::new();
    let got = d
        .deflate_decompress(body, &mut buf)
        .map_err(|_| invalid("the file is corrupt: the compressed data does not inflate"))?;
    if got != isize {
        return Err(invalid(
            "the file is corrupt: a gzip member's length does not match its data",
        ));
    }
    let mut c = libdeflater::Crc::new();
    c.update(&buf);
    if c.sum() != crc {
        return Err(invalid("the file is corrupt: CRC-32 checksum mismatch"));
    }
    Ok(buf)
}

/// Writes the inflated members in their order, whatever order they arrive in.
fn write_in_order(
    done: std::sync::mpsc::Receiver<(u64, Result<Vec<u8>, DecodeError>)>,
    out: &mut (dyn Write + Send),
) -> Result<u64, DecodeError> {
    let mut next = 0u64;
    let mut written = 0u64;
    let mut pending = BTreeMap::new();
    for (i, r) in done {
        pending.insert(i, r?);
        while let Some(data) = pending.remove(&next) {
            out.write_all(&data).map_err(DecodeError::Io)?;
            written += data.len() as u64;
            next += 1;
        }
    }
    out.flush().map_err(DecodeError::Io)?;
    Ok(written)
}

/// The reading side of the parallel decompressor: members in file order, markers checked.
struct Members {
    /// Bytes read so far.
    read: u64,
    /// Index of the next data member.
    next: u64,
    /// The total the end marker announces, once seen.
    end: Option<u64>,
}

impl Members {
    /// Sends every data member to the inflaters, until the input ends.
    fn send_all(
        &mut self,
        r: &mut impl Read,
        jobs: &std::sync::mpsc::SyncSender<(u64, Vec<u8>, usize)>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(), DecodeError> {
        loop {
            let mut fixed = [0u8; 12];
            let got = read_up_to(r, &mut fixed).map_err(DecodeError::Io)?;
            if got == 0 {
                return Ok(());
            }
            if self.end.is_some() {
                return Err(invalid("the file is corrupt: data follows the end marker"));
            }
            if got < 12 {
                return Err(invalid("the file is truncated (in a gzip header)"));
            }
            if fixed[0..2] != GZIP_MAGIC || fixed[3] != 0x04 {
                return Err(invalid("the file is corrupt: a gzip member was expected"));
            }
            let xlen = u16::from_le_bytes([fixed[10], fixed[11]]) as usize;
            let mut extra = vec![0u8; xlen];
            read_exact_or(r, &mut extra, "in a gzip header")?;
            let mut header = fixed.to_vec();
            header.extend_from_slice(&extra);
            let h = parse_gzip_header(&header)?;
            let Some((id, payload)) = h.sub else {
                return Err(invalid("the file is corrupt: a gzip member lacks cargo-dbm's marker"));
            };
            match &id {
                b"DZ" if payload.len() == 4 => {
                    let member = self.data_member(r, header, h.len, &payload)?;
                    progress(self.read);
                    if jobs.send((self.next, member, h.len)).is_err() {
                        return Ok(()); // the writer stopped: its error is reported
                    }
                    self.next += 1;
                }
                b"DM" | b"DE" => self.marker(r, header.len(), &id, &payload)?,
                _ => return Err(invalid("the file is corrupt: unknown gzip member")),
            }
        }
    }

    /// The rest of a data member whose header is read.
    fn data_member(
        &mut self,
        r: &mut impl Read,
        header: Vec<u8>,
        header_len: usize,
        payload: &[u8],
    ) -> Result<Vec<u8>, DecodeError> {
        let total = u32::from_le_bytes(payload[..4].try_into().unwrap()) as usize;
        if total < header.len() + 8 || total > 2 * CHUNK + 4096 {
            return Err(invalid("the file is corrupt: a gzip member has a bad length"));
        }
        let mut member = header;
        member.resize(total, 0);
        read_exact_or(r, &mut member[header_len..], "in the middle of the data")?;
        self.read += total as u64;
        Ok(member)
    }

    /// The rest of an empty marker member (metadata `DM`, end `DE` with the total length).
    fn marker(
        &mut self,
        r: &mut impl Read,
        header_len: usize,
        id: &[u8; 2],
        payload: &[u8],
    ) -> Result<(), DecodeError> {
        let mut rest = [0u8; 10];
        read_exact_or(r, &mut rest, "in a gzip member")?;
        if rest[..2] != [0x03, 0x00] {
            return Err(invalid("the file is corrupt: a marker member is not empty"));
        }
        self.read += (header_len + 10) as u64;
        if id == b"DE" {
            let total = payload
                .get(..8)
                .map(|p| u64::from_le_bytes(p.try_into().unwrap()))
                .ok_or_else(|| invalid("the file is corrupt: bad end marker"))?;
            self.end = Some(total);
        }
        Ok(())
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn zstd_decompress(
    file: &mut std::fs::File,
    out: &mut (dyn Write + Send),
    ours: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<u64, DecodeError> {
    let mut expected = None;
    let len = file.metadata().map_err(DecodeError::Io)?.len();
    if ours {
        // The end marker is the last 16 bytes: skippable magic, length 8, total.
        if len < 16 {
            return Err(invalid("the file is truncated"));
        }
        file.seek(SeekFrom::Start(len - 16)).map_err(DecodeError::Io)?;
        let mut tail = [0u8; 16];
        read_exact_or(file, &mut tail, "at its end")?;
        if u32::from_le_bytes(tail[0..4].try_into().unwrap()) != ZSTD_SKIP_END
            || u32::from_le_bytes(tail[4..8].try_into().unwrap()) != 8
        {
            return Err(invalid(
                "the file is truncated (its end marker is missing: the backup was cut short)",
            ));
        }
        expected = Some(u64::from_le_bytes(tail[8..16].try_into().unwrap()));
        file.seek(SeekFrom::Start(0)).map_err(DecodeError::Io)?;
    }
    let r = CountingRead {
        inner: &mut *file,
        n: 0,
        progress,
    };
    let mut dec = zstd::stream::read::Decoder::new(r)?;
    let written = io::copy(&mut dec, out)?;
    out.flush().map_err(DecodeError::Io)?;
    match expected {
        Some(t) if t != written => Err(invalid(format!(
            "the file is corrupt: {written} bytes decompressed, the end marker says {t}"
        ))),
        _ => Ok(written),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            tool: Meta::TOOL.into(),
            format: 1,
            engine: crate::engine::Engine::Sqlite,
            database: "app.db".into(),
            head: Some("m1".into()),
            applied: 1,
            created_ms: 0,
            kind: crate::backup::Kind::Backup,
            version: "0".into(),
            server_version: None,
        }
    }

    fn data(n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n);
        let mut x = 12345u64;
        while v.len() < n {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            v.extend_from_slice(format!("row {} value {}\n", x >> 40, x % 97).as_bytes());
        }
        v.truncate(n);
        v
    }

    fn roundtrip(codec: Codec, input: &[u8]) -> Vec<u8> {
        let mut compressed = Vec::new();
        compress(
            &mut &input[..],
            &mut compressed,
            codec,
            codec.default_level(),
            &meta(),
            &|_| {},
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &compressed).unwrap();
        let mut f = std::fs::File::open(&p).unwrap();
        assert_eq!(read_header(&mut f).unwrap().1, Some(meta()));
        let mut out = Vec::new();
        decompress(&mut f, &mut out, &|_| {}).unwrap();
        out
    }

    #[test]
    fn gzip_and_zstd_round_trip() {
        for n in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 17] {
            let d = data(n);
            assert_eq!(roundtrip(Codec::Gzip, &d), d, "gzip {n}");
            assert_eq!(roundtrip(Codec::Zstd, &d), d, "zstd {n}");
        }
    }

    #[test]
    fn gzip_output_is_plain_gzip() {
        let d = data(CHUNK + 1000);
        let mut compressed = Vec::new();
        compress(&mut &d[..], &mut compressed, Codec::Gzip, 6, &meta(), &|_| {}).unwrap();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&compressed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, d);
    }

    #[test]
    fn truncation_and_corruption_are_detected() {
        let d = data(2 * CHUNK + 5);
        for codec in [Codec::Gzip, Codec::Zstd] {
            let mut c = Vec::new();
            compress(&mut &d[..], &mut c, codec, codec.default_level(), &meta(), &|_| {}).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("f");
            for cut in [c.len() - 1, c.len() - 20, c.len() / 2, 100] {
                std::fs::write(&p, &c[..cut]).unwrap();
                let r = decompress(&mut std::fs::File::open(&p).unwrap(), &mut io::sink(), &|_| {});
                assert!(matches!(r, Err(DecodeError::Invalid(_))), "{codec:?} cut at {cut}");
            }
            let mut bad = c.clone();
            let mid = bad.len() / 2;
            bad[mid] ^= 0x55;
            std::fs::write(&p, &bad).unwrap();
            let r = decompress(&mut std::fs::File::open(&p).unwrap(), &mut io::sink(), &|_| {});
            assert!(matches!(r, Err(DecodeError::Invalid(_))), "{codec:?} flipped");
        }
    }
}
