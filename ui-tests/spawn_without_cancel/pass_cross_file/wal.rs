use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::ingest::{Doc, Index};

pub struct Wal {
    dir: PathBuf,
    active: Mutex<File>,
}

impl Wal {
    pub fn open(dir: &Path) -> io::Result<Self> {
        let active = File::options().create(true).append(true).open(dir.join("active.wal"))?;
        Ok(Self { dir: dir.to_path_buf(), active: Mutex::new(active) })
    }

    fn fsync(&self) -> io::Result<()> {
        self.active.lock().unwrap().sync_data()
    }

    fn segment(&self, n: u32) -> io::Result<File> {
        File::open(self.dir.join(format!("{n:08}.wal")))
    }
}

/// fsyncs the active segment every 10ms until the stop flag is set.
pub fn sync_until_stopped(wal: &Wal, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        if let Err(err) = wal.fsync() {
            log::error!("wal fsync failed: {err}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn is_end_of_log(chunk: &[u8]) -> bool {
    chunk.ends_with(b"\0EOL")
}

/// Replays segments into the index as they appear, until the end-of-log marker. The
/// outer loop has no exit of its own: it is left by the labelled breaks in the inner
/// read loop.
pub fn replay_segments(wal: &Wal, index: &Index) {
    let mut n = 0u32;
    let mut buf = vec![0u8; 64 * 1024];
    'segments: loop {
        let mut segment = match wal.segment(n) {
            Ok(segment) => segment,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
        };
        loop {
            match segment.read(&mut buf) {
                Ok(0) => break,
                Ok(len) if is_end_of_log(&buf[..len]) => break 'segments,
                Ok(len) => index.add(Doc {
                    id: u64::from(n),
                    body: String::from_utf8_lossy(&buf[..len]).into_owned(),
                }),
                Err(err) => {
                    log::error!("segment {n} unreadable: {err}");
                    break 'segments;
                }
            }
        }
        n += 1;
    }
    log::info!("replayed {n} segments");
}
