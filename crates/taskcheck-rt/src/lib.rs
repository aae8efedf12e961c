//! A leak check for async tests: the runtime half of [taskcheck].
//!
//! taskcheck finds the leaks it can see in the source; some only show when the code runs (a
//! task waiting on a channel whose sender is kept somewhere, a loop taskcheck cannot resolve).
//! `#[taskcheck_rt::test]` runs an async test like `#[tokio::test]`, then fails it if tokio
//! tasks or OS threads it started are still alive a grace period (200 ms by default) after the
//! test body returned, the way Go's `goleak` checks goroutines.
//!
//! ```
//! use tokio::sync::mpsc;
//! use tokio::task::JoinHandle;
//!
//! /// A service with one worker task that adds up the jobs it gets until its channel closes.
//! struct Totals {
//!     jobs: mpsc::Sender<u64>,
//!     worker: JoinHandle<u64>,
//! }
//!
//! impl Totals {
//!     fn start() -> Totals {
//!         let (jobs, mut queue) = mpsc::channel(16);
//!         let worker = tokio::spawn(async move {
//!             let mut total = 0;
//!             while let Some(n) = queue.recv().await {
//!                 total += n;
//!             }
//!             total
//!         });
//!         Totals { jobs, worker }
//!     }
//!
//!     /// Closes the queue and waits for the worker to drain it.
//!     async fn shutdown(self) -> u64 {
//!         drop(self.jobs);
//!         self.worker.await.expect("worker panicked")
//!     }
//! }
//!
//! #[taskcheck_rt::test]
//! async fn totals_stop_on_shutdown() {
//!     let totals = Totals::start();
//!     for n in 1..=3 {
//!         totals.jobs.send(n).await.unwrap();
//!     }
//!     assert_eq!(totals.shutdown().await, 6);
//! }
//! # fn main() {
//! #     // What the attribute expands to, run for real (a doctest does not run #[test]s).
//! #     taskcheck_rt::check(taskcheck_rt::Config::new(), || async {
//! #         let totals = Totals::start();
//! #         for n in 1..=3 {
//! #             totals.jobs.send(n).await.unwrap();
//! #         }
//! #         assert_eq!(totals.shutdown().await, 6);
//! #     });
//! # }
//! ```
//!
//! Had the test forgotten `shutdown()` (or kept a clone of `jobs` in a task of its own), the
//! worker would still be waiting for jobs after the test and the test would fail:
//!
//! ```text
//! taskcheck-rt: the test leaked 1 task; still alive after the grace period of 200ms
//!   tasks: 1 still alive in the test's runtime
//!   hint: run `cargo taskcheck` on this crate: it points at spawns that nothing can stop
//!   hint: for each leaked task's trace, build with RUSTFLAGS="--cfg tokio_unstable" and taskcheck-rt's `taskdump` feature
//! ```
//!
//! # How it works
//!
//! [`check`] (which the attribute calls) builds a tokio runtime, runs the body on it, then
//! waits up to the grace period for the runtime's alive-task count
//! ([`RuntimeMetrics::num_alive_tasks`](tokio::runtime::RuntimeMetrics::num_alive_tasks)) to
//! reach zero, shuts the runtime down, and waits up to the grace period again for the OS
//! threads the test started to end. Whatever is left is reported in the panic message.
//!
//! * **Tasks** are counted on the test's own runtime, so tests running in parallel never see
//!   each other's tasks. Tasks spawned on a `LocalSet` or on another runtime are not counted
//!   (another runtime's worker threads are, below).
//! * **Threads** (Linux only): a thread is the test's when it was started, directly or through
//!   other threads, by the test's thread or the runtime's threads while the test ran; threads
//!   that other tests start in parallel are not. A new thread inherits the signal mask of the
//!   thread that starts it, so the check blocks a pattern of four real-time signals in the
//!   test's thread and looks for that pattern in `/proc/self/task/<tid>/status` (the details
//!   are in `src/threads.rs`). To keep the attribution exact, checked tests in one process
//!   **run one at a time** (a process-wide lock; tests without the check still run in parallel
//!   with them and with each other). Threads that existed before the check are never reported.
//!   The runtime's own threads are not reported either, unless one is still running after the
//!   runtime shut down: then a `spawn_blocking` closure, or a task that blocks its worker, is
//!   still running. On other platforms threads are not checked, and never fail a test.
//! * **The test's own failure wins**: a body that panics has its panic resumed (after the
//!   runtime is shut down), so `#[should_panic(expected = "...")]` sees the body's message;
//!   a body that returns `Err` returns it, unchecked.
//! * With `--cfg tokio_unstable` and this crate's `taskdump` feature (Linux on x86, x86_64,
//!   aarch64 or s390x), the message also carries each leaked task's trace from
//!   [tokio's task dump](https://docs.rs/tokio/latest/tokio/runtime/struct.Handle.html#method.dump):
//!   `RUSTFLAGS="--cfg tokio_unstable" cargo test --features taskcheck-rt/taskdump`.
//!
//! # Known background work
//!
//! A test that starts something meant to outlive it (a process-wide metrics thread, a pool
//! a library starts on first use) says so: [`Config::allow_leaks`] lets up to `n` tasks stay
//! alive, [`Config::ignore_threads_named`] skips the threads whose names start with a prefix.
//!
//! # Limits
//!
//! * A thread that the test starts and that then blocks every signal, or changes the mask of
//!   the four signals itself, is not recognised as the test's (a missed leak, never a false one).
//!   glibc and musl start every thread with all signals blocked for a moment, so the check
//!   waits (up to the grace period) for new threads in that state to settle: a passing test
//!   can take its grace period to finish while a test next to it starts threads that block
//!   everything for good.
//! * A thread started, while this test runs, by a thread that an earlier checked test leaked is
//!   blamed on this test when the two checks used the same pattern (6, 12, ... checks apart).
//!   The earlier test failed already, unless it ignored that thread.
//! * A thread that a library starts once per process (a global pool, on first use) is a leak of
//!   the first test that uses it: ignore it by name.
//! * The test's threads run with `SIGRTMAX-3..=SIGRTMAX` blocked or unblocked in a pattern; a
//!   test that sends one of those signals to one of its threads sees it stay pending.
//! * The grace-period wait runs the runtime: a leaked task that blocks its thread (a synchronous
//!   wait inside async code) blocks a current_thread test for good, where `#[tokio::test]`
//!   would have dropped it unpolled.
//! * `check` cannot run inside a tokio runtime (it starts one), and checks must not be nested
//!   in a thread started inside another check (the lock would wait forever).
//!
//! [taskcheck]: https://github.com/taskcheck/taskcheck

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};

#[cfg(target_os = "linux")]
mod threads;

/// Threads are not checked on this platform: [`ThreadWatch::start`] always says so, and the
/// type has no values, so nothing else here can run.
#[cfg(not(target_os = "linux"))]
mod threads {
    pub(crate) enum ThreadWatch {}

    impl ThreadWatch {
        pub fn start() -> Option<ThreadWatch> {
            None
        }

        pub fn runtime_thread_registrar(&self) -> fn() {
            match *self {}
        }

        #[cfg_attr(not(all(tokio_unstable, feature = "taskdump")), allow(dead_code))]
        pub fn unmarked<T>(&self, _: impl FnOnce() -> T) -> T {
            match *self {}
        }

        pub fn wait(&self, _: &crate::Config) -> Vec<crate::LeakedThread> {
            match *self {}
        }
    }

    // The Linux watch releases its lock on drop, which `try_check` does at chosen points.
    impl Drop for ThreadWatch {
        fn drop(&mut self) {
            match *self {}
        }
    }
}

use threads::ThreadWatch;

/// `#[taskcheck_rt::test]`: an async test on a fresh tokio runtime, failed if it leaks tasks or
/// threads.
///
/// It takes `#[tokio::test]`'s runtime arguments, `flavor = "current_thread"` (the default)
/// or `"multi_thread"` and `worker_threads = N` (multi_thread only), and the check's own:
/// `grace_period_ms = N`, `allow_leaks = N`, and `ignore_threads_named = "prefix"` (repeatable).
/// The test may return `()` or a `Result`. It expands to a `#[test]` that calls [`check`].
///
/// ```
/// use std::time::Duration;
/// use tokio_util::sync::CancellationToken;
///
/// #[taskcheck_rt::test(flavor = "multi_thread", worker_threads = 2, grace_period_ms = 500)]
/// async fn poller_stops_when_cancelled() {
///     let token = CancellationToken::new();
///     let poller = tokio::spawn({
///         let token = token.clone();
///         async move {
///             let mut polls = 0u32;
///             loop {
///                 tokio::select! {
///                     _ = token.cancelled() => return polls,
///                     _ = tokio::time::sleep(Duration::from_millis(1)) => polls += 1,
///                 }
///             }
///         }
///     });
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     token.cancel();
///     assert!(poller.await.unwrap() > 0);
/// }
/// # fn main() {
/// #     // A doctest does not run #[test] functions: run the same body through `check`.
/// #     let config = taskcheck_rt::Config::new()
/// #         .flavor(taskcheck_rt::Flavor::MultiThread)
/// #         .worker_threads(2)
/// #         .grace_period(Duration::from_millis(500));
/// #     taskcheck_rt::check(config, || async {
/// #         let token = CancellationToken::new();
/// #         let poller = tokio::spawn({
/// #             let token = token.clone();
/// #             async move {
/// #                 let mut polls = 0u32;
/// #                 loop {
/// #                     tokio::select! {
/// #                         _ = token.cancelled() => return polls,
/// #                         _ = tokio::time::sleep(Duration::from_millis(1)) => polls += 1,
/// #                     }
/// #                 }
/// #             }
/// #         });
/// #         tokio::time::sleep(Duration::from_millis(10)).await;
/// #         token.cancel();
/// #         assert!(poller.await.unwrap() > 0);
/// #     });
/// # }
/// ```
pub use taskcheck_rt_macros::test;

/// How long the check waits, by default, for the test's tasks and threads to end.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_millis(200);

/// The runtime's threads are named `tcrt-rt-N`. An unnamed thread inherits its starter's name,
/// which is how the report tells the test's unnamed threads apart.
pub(crate) const RUNTIME_THREAD_PREFIX: &str = "tcrt-rt-";

/// How often the check looks at the task count and the thread list while it waits.
pub(crate) const POLL: Duration = Duration::from_millis(2);

/// The tokio scheduler the test runs on, as in `#[tokio::test(flavor = ...)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Everything on the test's thread (the default, as with `#[tokio::test]`).
    #[default]
    CurrentThread,
    /// A pool of worker threads.
    MultiThread,
}

/// The runtime and the check's tolerances. `Config::new()` is what `#[taskcheck_rt::test]`
/// uses without arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    flavor: Flavor,
    worker_threads: Option<usize>,
    grace_period: Duration,
    allowed_tasks: usize,
    ignored_threads: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// A current_thread runtime, a grace period of [`DEFAULT_GRACE_PERIOD`], no leaks allowed.
    pub fn new() -> Config {
        Config {
            flavor: Flavor::CurrentThread,
            worker_threads: None,
            grace_period: DEFAULT_GRACE_PERIOD,
            allowed_tasks: 0,
            ignored_threads: Vec::new(),
        }
    }

    /// The runtime's scheduler.
    pub fn flavor(mut self, flavor: Flavor) -> Config {
        self.flavor = flavor;
        self
    }

    /// The number of worker threads of a [`Flavor::MultiThread`] runtime (tokio's default: one
    /// per CPU). [`check`] panics if it is set on a current_thread runtime.
    pub fn worker_threads(mut self, n: usize) -> Config {
        self.worker_threads = Some(n);
        self
    }

    /// How long to wait for tasks, and then for threads, to end after the body returned.
    pub fn grace_period(mut self, grace_period: Duration) -> Config {
        self.grace_period = grace_period;
        self
    }

    /// Up to `n` tasks may still be alive after the grace period (known background tasks; they
    /// are dropped when the runtime shuts down).
    pub fn allow_leaks(mut self, n: usize) -> Config {
        self.allowed_tasks = n;
        self
    }

    /// Threads whose name starts with `prefix` are not reported. Linux keeps the first 15 bytes
    /// of a thread's name; a longer prefix matches a name that is its first 15 bytes.
    pub fn ignore_threads_named(mut self, prefix: impl Into<String>) -> Config {
        self.ignored_threads.push(prefix.into());
        self
    }
}

/// What a test body returns: `()` or a `Result`. A failed outcome (`Err`) is the test's own
/// failure, returned without a leak check so that nothing hides it.
pub trait Outcome {
    /// Whether the test failed by itself.
    fn is_failure(&self) -> bool;
}

impl Outcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// What a test left running. Its `Display` is the message `check` panics with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leaks {
    /// Tasks still alive in the test's runtime after the grace period; a leak when more than
    /// `allowed_tasks`.
    pub tasks: usize,
    /// [`Config::allow_leaks`].
    pub allowed_tasks: usize,
    /// Threads still running after the grace period: the test's, then the runtime's own.
    pub threads: Vec<LeakedThread>,
    /// How long the check waited (for tasks, and again for threads).
    pub grace_period: Duration,
    /// One trace per leaked task, from tokio's task dump; empty unless built with
    /// `--cfg tokio_unstable` and the `taskdump` feature.
    pub task_traces: Vec<String>,
}

/// A thread that outlived the test.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeakedThread {
    /// The kernel's thread id.
    pub tid: u32,
    /// The thread's name as the kernel keeps it (at most 15 bytes).
    pub name: String,
    /// The thread was started without a name: it carries the name of the thread that started it.
    pub name_inherited: bool,
    /// One of the test runtime's own threads, still running after the runtime shut down: a
    /// `spawn_blocking` closure, or a task blocking its worker thread, that does not end.
    pub runtime: bool,
}

impl Leaks {
    fn leaked_tasks(&self) -> usize {
        if self.tasks > self.allowed_tasks {
            self.tasks
        } else {
            0
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

impl fmt::Display for Leaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tasks = self.leaked_tasks();
        let mut what = Vec::new();
        if tasks > 0 {
            what.push(plural(tasks, "task"));
        }
        if !self.threads.is_empty() {
            what.push(plural(self.threads.len(), "thread"));
        }
        write!(f, "taskcheck-rt: the test leaked {}", what.join(" and "))?;
        if tasks > 0 && self.allowed_tasks > 0 {
            write!(f, " ({} allowed)", self.allowed_tasks)?;
        }
        writeln!(f, "; still alive after the grace period of {:?}", self.grace_period)?;
        if tasks > 0 {
            writeln!(f, "  tasks: {tasks} still alive in the test's runtime")?;
            for trace in &self.task_traces {
                for line in trace.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
        }
        let (runtime, started): (Vec<_>, Vec<_>) = self.threads.iter().partition(|t| t.runtime);
        if !started.is_empty() {
            writeln!(f, "  threads started by the test and still running:")?;
            for thread in started {
                write!(f, "    \"{}\" (tid {}", thread.name, thread.tid)?;
                if thread.name_inherited {
                    write!(f, "; unnamed, it carries the name of the thread that started it")?;
                }
                writeln!(f, ")")?;
            }
        }
        if !runtime.is_empty() {
            writeln!(
                f,
                "  runtime threads still running after the runtime shut down (a `spawn_blocking` closure, or a task \
                 that blocks its worker thread):"
            )?;
            for thread in runtime {
                writeln!(f, "    \"{}\" (tid {})", thread.name, thread.tid)?;
            }
        }
        write!(f, "  hint: run `cargo taskcheck` on this crate: it points at spawns that nothing can stop")?;
        if tasks > 0 && !cfg!(all(tokio_unstable, feature = "taskdump")) {
            write!(
                f,
                "\n  hint: for each leaked task's trace, build with RUSTFLAGS=\"--cfg tokio_unstable\" and \
                 taskcheck-rt's `taskdump` feature"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Leaks {}

/// Runs `body` on a new tokio runtime and panics with the [`Leaks`] message if it leaves tasks
/// or threads behind. A panic in `body` is resumed as it was; an `Err` from `body` is returned.
///
/// ```
/// use std::time::Duration;
/// use tokio::task::JoinSet;
///
/// let config = taskcheck_rt::Config::new().grace_period(Duration::from_millis(50));
/// let sum = taskcheck_rt::check(config, || async {
///     let mut fetches = JoinSet::new();
///     for shard in 0..4u64 {
///         fetches.spawn(async move {
///             tokio::time::sleep(Duration::from_millis(shard)).await;
///             shard * 10
///         });
///     }
///     let mut sum = 0;
///     while let Some(part) = fetches.join_next().await {
///         sum += part.unwrap();
///     }
///     Ok::<_, std::io::Error>(sum)
/// });
/// assert_eq!(sum.unwrap(), 60);
/// ```
#[track_caller]
pub fn check<F, Fut>(config: Config, body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    match try_check(config, body) {
        Ok(output) => output,
        Err(leaks) => panic!("{leaks}"),
    }
}

/// [`check`], with the leaks returned instead of panicked with.
///
/// ```
/// use std::time::Duration;
/// use tokio::sync::mpsc;
///
/// let config = taskcheck_rt::Config::new().grace_period(Duration::from_millis(20));
/// let leaks = taskcheck_rt::try_check(config, || async {
///     let (events, mut queue) = mpsc::channel::<String>(8);
///     // The consumer ends when every sender is gone...
///     tokio::spawn(async move { while queue.recv().await.is_some() {} });
///     // ...and a copy of the sender is parked in a value that lives forever.
///     Box::leak(Box::new(events.clone()));
///     events.send("started".into()).await.unwrap();
/// })
/// .unwrap_err();
/// assert_eq!(leaks.tasks, 1);
/// assert!(leaks.to_string().starts_with("taskcheck-rt: the test leaked 1 task;"));
/// ```
#[track_caller]
pub fn try_check<F, Fut>(config: Config, body: F) -> Result<Fut::Output, Leaks>
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: Outcome,
{
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "taskcheck_rt::check starts its own runtime and cannot run inside one (is the test also #[tokio::test]?)"
    );
    assert!(
        config.worker_threads.is_none() || config.flavor == Flavor::MultiThread,
        "taskcheck_rt: `worker_threads` needs the multi_thread flavor"
    );
    let grace = config.grace_period;
    let watch = ThreadWatch::start();
    let runtime = build_runtime(&config, watch.as_ref());

    let output = match panic::catch_unwind(AssertUnwindSafe(|| runtime.block_on(body()))) {
        Ok(output) if !output.is_failure() => output,
        Ok(failed) => {
            runtime.shutdown_timeout(grace);
            return Ok(failed);
        }
        Err(panic) => {
            runtime.shutdown_timeout(grace);
            drop(watch);
            panic::resume_unwind(panic);
        }
    };

    let tasks = wait_for_tasks(&runtime, grace, config.allowed_tasks);
    let leaked_tasks = tasks > config.allowed_tasks;
    #[cfg(all(tokio_unstable, feature = "taskdump"))]
    let task_traces = if leaked_tasks { dump::task_traces(&runtime, &config, watch.as_ref()) } else { Vec::new() };
    #[cfg(not(all(tokio_unstable, feature = "taskdump")))]
    let task_traces = Vec::new();
    // Drops the tasks still alive; waits (up to the grace period) for the runtime's threads.
    runtime.shutdown_timeout(grace);

    let threads = match &watch {
        Some(watch) => watch.wait(&config),
        None => Vec::new(),
    };
    drop(watch);

    if !leaked_tasks && threads.is_empty() {
        return Ok(output);
    }
    Err(Leaks { tasks, allowed_tasks: config.allowed_tasks, threads, grace_period: grace, task_traces })
}

fn build_runtime(config: &Config, watch: Option<&ThreadWatch>) -> Runtime {
    let mut builder = match config.flavor {
        Flavor::CurrentThread => Builder::new_current_thread(),
        Flavor::MultiThread => Builder::new_multi_thread(),
    };
    if let Some(n) = config.worker_threads {
        builder.worker_threads(n);
    }
    let next = Arc::new(AtomicUsize::new(0));
    builder
        .enable_all()
        .thread_name_fn(move || format!("{RUNTIME_THREAD_PREFIX}{}", next.fetch_add(1, Ordering::Relaxed)));
    if let Some(watch) = watch {
        builder.on_thread_start(watch.runtime_thread_registrar());
    }
    builder.build().unwrap_or_else(|err| panic!("taskcheck-rt: cannot build the test's tokio runtime: {err}"))
}

/// Waits up to `grace` for at most `allowed` tasks to be alive and returns how many are. It
/// blocks on the runtime while it waits: a current_thread runtime runs its tasks only then.
fn wait_for_tasks(runtime: &Runtime, grace: Duration, allowed: usize) -> usize {
    let metrics = runtime.metrics();
    let deadline = Instant::now() + grace;
    runtime.block_on(async {
        loop {
            let alive = metrics.num_alive_tasks();
            if alive <= allowed || Instant::now() >= deadline {
                return alive;
            }
            tokio::time::sleep(POLL).await;
        }
    })
}

#[cfg(all(tokio_unstable, feature = "taskdump"))]
mod dump {
    use super::{Config, Flavor, ThreadWatch};
    use tokio::runtime::{Handle, Runtime};

    /// One trace per task alive in `runtime`, from tokio's task dump.
    pub(crate) fn task_traces(runtime: &Runtime, config: &Config, watch: Option<&ThreadWatch>) -> Vec<String> {
        let grace = config.grace_period;
        // A dump waits for every worker; a worker blocked by a task never answers.
        let dump = || runtime.block_on(async { tokio::time::timeout(grace, Handle::current().dump()).await });
        // On a multi_thread runtime tokio takes the dump on a thread of its own, started from
        // here: unmarked, it is not taken for a thread of the test's. (A current_thread dump
        // starts no thread, and the test's tasks run while it is taken: stay marked.)
        let dump = match (config.flavor, watch) {
            (Flavor::MultiThread, Some(watch)) => watch.unmarked(dump),
            _ => dump(),
        };
        match dump {
            Ok(dump) => dump.tasks().iter().map(|task| format!("task {}:\n{}", task.id(), task.trace())).collect(),
            Err(_) => {
                vec![format!("(no traces: the task dump did not finish within {grace:?}; a worker thread is blocked)")]
            }
        }
    }
}
