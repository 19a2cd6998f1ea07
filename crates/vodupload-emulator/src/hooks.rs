//! Named points in the durable steps (a part stored, a file finished, an event confirmed) where a
//! test can stop the emulator, to prove that whatever moment it is killed at, what it kept on
//! disk is consistent. Without a hook, passing a point costs one branch.

use std::fmt;
use std::sync::Arc;

/// Called with the name of each step reached, on the thread doing the work (a blocking-pool
/// thread: the hook may block, e.g. until the process is killed).
#[derive(Clone, Default)]
pub struct StepHook(Option<Arc<HookFn>>);

type HookFn = dyn Fn(&str) + Send + Sync;

impl StepHook {
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> StepHook {
        StepHook(Some(Arc::new(f)))
    }

    /// Stops the process's progress for good at `step`: prints `paused at STEP` on stderr and
    /// sleeps, waiting to be killed. What `VODUPLOAD_EMULATOR_PAUSE_AT` sets up in the binary.
    pub fn pause_at(step: String) -> StepHook {
        StepHook::new(move |at| {
            if at == step {
                eprintln!("vodupload-emulator: paused at {at}");
                loop {
                    std::thread::park();
                }
            }
        })
    }

    pub(crate) fn at(&self, step: &str) {
        if let Some(f) = &self.0 {
            f(step);
        }
    }
}

impl fmt::Debug for StepHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "StepHook(set)"
        } else {
            "StepHook(none)"
        })
    }
}

/// Every step a hook can see, in the order an upload reaches them.
pub const STEPS: &[&str] = &[
    "init:session-written",
    "part:body-written",
    "part:committed",
    "finish:verified",
    "finish:event-written",
    "finish:file-meta-written",
    "finish:committed",
    "finish:published",
    "confirm:removed",
];
