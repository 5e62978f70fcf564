//! Compiled plugins on disk, so that Cranelift never runs on the hot path.
//!
//! `<cache dir>/<key>.cwasm` holds the native code, keyed by the wasm's SHA-256, wasmtime's compatibility hash and
//! gohook's version; `<key>.sum` holds its length and CRC-32. Loading native code runs it, so an entry is used only
//! when the directory is private to the user and the file matches its sum; then it is mmapped by
//! `Component::deserialize_file`. Anything else (missing, truncated, garbage, another version) is compiled again.
//! A lock file per key makes parallel first uses compile once; entries are written to a temp file and renamed.

use std::borrow::Cow;
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use gohook_records::{create_private_dir, write_atomically};

/// How a component was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheState {
    /// Native code mmapped from the cache.
    Hit,
    /// Compiled now and stored.
    Compiled,
    /// Compiled now and not stored (no usable cache directory).
    Uncached,
}

pub struct CompileCache {
    /// `None` when there is no private directory to trust.
    dir: Option<PathBuf>,
}

impl CompileCache {
    /// A cache in `dir`, created private if missing. A directory another user could write to is not used.
    pub fn open(dir: PathBuf) -> CompileCache {
        if let Err(e) = create_private_dir(&dir) {
            tracing::warn!("plugin cache {} unusable ({e}); compiling plugins in memory", dir.display());
            return CompileCache { dir: None };
        }
        match private_to_user(&dir) {
            Ok(()) => CompileCache { dir: Some(dir) },
            Err(why) => {
                tracing::warn!("plugin cache {} not used: {why}; compiling plugins in memory", dir.display());
                CompileCache { dir: None }
            }
        }
    }

    /// The file the entry for a plugin with this content id (SHA-256 of its wasm) would have.
    pub fn entry_path(&self, engine: &Engine, content_id: &str) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{}.cwasm", key(engine, content_id))))
    }

    /// The component for the plugin whose wasm has `content_id`; `wasm` is read only if it must be compiled.
    pub fn load<'w>(
        &self,
        engine: &Engine,
        content_id: &str,
        wasm: impl FnOnce() -> std::io::Result<Cow<'w, [u8]>>,
    ) -> Result<(Component, CacheState)> {
        let Some(path) = self.entry_path(engine, content_id) else {
            return Ok((compile(engine, &wasm()?)?, CacheState::Uncached));
        };
        if let Some(component) = try_load(engine, &path) {
            return Ok((component, CacheState::Hit));
        }
        // Several processes may miss at once: one compiles, the others wait and then load its result.
        let _lock = FileLock::acquire(&path.with_extension("lock"));
        if let Some(component) = try_load(engine, &path) {
            return Ok((component, CacheState::Hit));
        }
        let native = engine.precompile_component(&wasm()?)?;
        if let Err(e) = store(&path, &native) {
            tracing::warn!("cannot store compiled plugin {}: {e}", path.display());
            return Ok((compile_from_native(engine, &native)?, CacheState::Uncached));
        }
        match try_load(engine, &path) {
            Some(component) => Ok((component, CacheState::Compiled)),
            None => Ok((compile_from_native(engine, &native)?, CacheState::Uncached)),
        }
    }
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component> {
    Ok(Component::new(engine, wasm)?)
}

fn compile_from_native(engine: &Engine, native: &[u8]) -> Result<Component> {
    // SAFETY: `native` was produced by this engine a moment ago, in memory.
    Ok(unsafe { Component::deserialize(engine, native) }?)
}

fn key(engine: &Engine, content_id: &str) -> String {
    struct Sha(Sha256);
    impl std::hash::Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = Sha(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    let mut outer = Sha256::new();
    outer.update(content_id.as_bytes());
    outer.update(hasher.0.finalize());
    outer.update(gohook_records::VERSION.as_bytes());
    hex::encode(&outer.finalize()[..20])
}

/// The entry, if its sum matches and wasmtime accepts it; a bad entry is removed.
fn try_load(engine: &Engine, path: &Path) -> Option<Component> {
    let expected = fs::read_to_string(path.with_extension("sum")).ok()?;
    let bytes = fs::read(path).ok()?;
    if expected.trim() != sum(&bytes) {
        tracing::warn!("compiled plugin {} does not match its checksum; compiling again", path.display());
        let _ = fs::remove_file(path);
        return None;
    }
    // SAFETY: the file lies in a directory only this user can write, matches the checksum written with it, and
    // entries are replaced by rename, never rewritten in place, so the mapping cannot change under us.
    match unsafe { Component::deserialize_file(engine, path) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!("compiled plugin {} unusable ({e}); compiling again", path.display());
            let _ = fs::remove_file(path);
            None
        }
    }
}

fn sum(bytes: &[u8]) -> String {
    format!("{} {:08x}", bytes.len(), crc32fast::hash(bytes))
}

fn store(path: &Path, native: &[u8]) -> std::io::Result<()> {
    write_atomically(path, native)?;
    write_atomically(&path.with_extension("sum"), sum(native).as_bytes())
}

fn private_to_user(dir: &Path) -> Result<(), String> {
    let meta = fs::metadata(dir).map_err(|e| e.to_string())?;
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(format!("owned by uid {}, not by you (uid {uid})", meta.uid()));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(format!(
            "writable by others (mode {:o}); run `chmod 700 {}`",
            meta.permissions().mode() & 0o777,
            dir.display()
        ));
    }
    Ok(())
}

/// An exclusive `flock`, released on drop. Failing to lock only costs a duplicate compile.
struct FileLock(Option<File>);

impl FileLock {
    fn acquire(path: &Path) -> FileLock {
        let file = OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(path);
        let file = file.ok().filter(|f| {
            // SAFETY: flock on a descriptor we own.
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) == 0 }
        });
        FileLock(file)
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            // SAFETY: unlock the descriptor we locked.
            unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
        }
    }
}
