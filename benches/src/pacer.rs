//! A precise timer for the synthetic upstream. tokio's timer works in whole milliseconds, so a 5 ms
//! token gap would come out anywhere between 5 and 6 ms; this thread sleeps on a condition variable
//! with a timeout (an hrtimer, tens of microseconds late at worst) and wakes each waiter at its
//! instant.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Instant;
use tokio::sync::oneshot;

/// A handle to the timer thread; clones share it. The thread ends when the last handle is dropped.
#[derive(Clone)]
pub struct Pacer {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    due: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    stop: bool,
}

struct Entry {
    at: Instant,
    seq: u64,
    tx: oneshot::Sender<()>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Stops and joins the thread when the last [`Pacer`] goes.
struct Owner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pacer {
    pub fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("bench-pacer".into())
                .spawn(move || run(&shared))?
        };
        Ok(Self {
            shared: shared.clone(),
            _owner: Arc::new(Owner {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// Resolves at `at` (at once if it has passed).
    pub async fn until(&self, at: Instant) {
        if at <= Instant::now() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let earliest = {
            let mut state = lock(&self.shared.state);
            state.seq += 1;
            let seq = state.seq;
            state.due.push(Reverse(Entry { at, seq, tx }));
            state.due.peek().is_some_and(|top| top.0.seq == seq)
        };
        if earliest {
            self.shared.wake.notify_one();
        }
        let _ = rx.await;
    }
}

fn run(shared: &Shared) {
    let mut state = lock(&shared.state);
    loop {
        let now = Instant::now();
        while state.due.peek().is_some_and(|top| top.0.at <= now) {
            if let Some(Reverse(entry)) = state.due.pop() {
                let _ = entry.tx.send(());
            }
        }
        if state.stop {
            return;
        }
        state = match state.due.peek().map(|top| top.0.at) {
            Some(at) => {
                shared
                    .wake
                    .wait_timeout(state, at.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => shared
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_waiters_in_order_and_not_early() {
        let pacer = Pacer::start().unwrap();
        let start = Instant::now();
        let later = pacer.until(start + Duration::from_millis(20));
        let sooner = pacer.until(start + Duration::from_millis(5));
        let order = std::sync::Mutex::new(Vec::new());
        tokio::join!(
            async {
                later.await;
                order.lock().unwrap().push(20);
            },
            async {
                sooner.await;
                order.lock().unwrap().push(5);
            }
        );
        assert_eq!(*order.lock().unwrap(), [5, 20]);
        assert!(start.elapsed() >= Duration::from_millis(20));
        pacer.until(start).await;
    }
}
