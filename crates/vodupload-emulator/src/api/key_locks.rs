//! One lock per upload (SecretId, fileSha), held by InitUpload and FinishUpload, so the two never
//! interleave for one file. UploadPart does not take it: parts of one file go in in parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::Key;

#[derive(Debug, Default)]
pub(crate) struct KeyLocks {
    locks: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

impl KeyLocks {
    pub(crate) fn get(&self, key: &Key) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 4096 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(key.clone()).or_default().clone()
    }
}
