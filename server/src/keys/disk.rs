//! The key folder on disk: files only their owner can read, written durably.

use std::path::Path;

use super::error::KeyError;

/// Reads a file of the key folder.
pub(super) fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|e| KeyError::Io { path: path.to_path_buf(), source: e })
}

/// Creates the key folder, owner-only.
pub(super) fn create_private_dir(dir: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let io = |e| KeyError::Io { path: dir.to_path_buf(), source: e };
    if !dir.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Writes a file only its owner can read, durably (temporary file, sync, rename, folder sync).
pub(super) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| KeyError::Io { path: path.to_path_buf(), source: e };
    let tmp = path.with_extension("tmp");
    {
        let mut file =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
        file.write_all(bytes).map_err(io)?;
        file.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}
