//! Runs password hashing on threads of its own, as many as configured, with a bounded queue:
//! anything beyond is refused at once ([`crate::Error::Busy`]), so a login flood costs neither
//! memory nor threads. The threads live as long as the pool, so each keeps its one argon2 buffer
//! ([`super::password`]).

use std::sync::{Arc, Mutex};

use crate::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

pub struct HashPool {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl HashPool {
    pub fn new(threads: usize, queue: usize) -> HashPool {
        let (jobs, waiting) = std::sync::mpsc::sync_channel::<Job>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for n in 0..threads.max(1) {
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("jiuzhu-hash-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for the next job, never while hashing.
                    let next = waiting.lock().map(|w| w.recv());
                    match next {
                        Ok(Ok(job)) => job(),
                        // The pool is gone (its sender dropped): the thread ends.
                        _ => break,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        HashPool { jobs }
    }

    /// Runs `f` (a hash or a verification) on a hashing thread; refuses at once when every
    /// thread is busy and the queue is full. A caller dropped meanwhile leaves its job to
    /// finish: the threads, not the callers, bound the work.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => rx
                .await
                .map_err(|e| Error::internal_from("a password hashing job was lost", e)),
            Err(std::sync::mpsc::TrySendError::Full(_)) => Err(Error::Busy),
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                Err(Error::internal("the password hashing threads are gone"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hashing_pool_refuses_at_once_when_full() {
        let pool = Arc::new(HashPool::new(1, 1));
        let (started, running) = std::sync::mpsc::channel::<()>();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        // One job running on the only thread (until released)…
        let (p1, w1) = (pool.clone(), wait.clone());
        let first = tokio::spawn(async move {
            p1.run(move || {
                started.send(()).unwrap();
                w1.lock().unwrap().recv()
            })
            .await
        });
        tokio::task::spawn_blocking(move || running.recv().unwrap())
            .await
            .unwrap();
        // …one waiting in the queue…
        let (queued_tx, queued_rx) = tokio::sync::oneshot::channel();
        let w2 = wait.clone();
        let queued: Job = Box::new(move || {
            let _ = queued_tx.send(w2.lock().unwrap().recv());
        });
        assert!(pool.jobs.try_send(queued).is_ok());
        // …so the next is refused without waiting.
        assert!(matches!(pool.run(|| ()).await, Err(Error::Busy)));
        release.send(()).unwrap();
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap().is_ok());
        assert!(queued_rx.await.unwrap().is_ok());
        assert!(pool.run(|| 7).await.is_ok_and(|v| v == 7));
    }
}
