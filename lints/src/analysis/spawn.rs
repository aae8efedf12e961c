//! Spawn sites: what starts concurrent work, and what happens to its handle.

use super::paths::Resolved;

/// What kind of concurrent work a spawn site starts.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spawner {
    /// An async task whose handle detaches on drop (tokio, async-std, actix-rt).
    Task,
    /// A blocking-pool task (`spawn_blocking`): its handle detaches on drop and abort
    /// cannot stop it once it runs.
    Blocking,
    /// An OS thread: it can never be stopped from outside.
    Thread,
    /// An async-task/smol/async-executor `Task`: cancelled when dropped, only `.detach()`
    /// detaches it.
    CancelOnDrop,
    /// `TaskTracker::spawn`: tracked (waited for) but not stoppable.
    Tracker,
    /// A spawn on a scope (`thread::scope`, crossbeam, rayon): always joined.
    Scoped,
    /// A spawn on a `JoinSet`/`JoinMap`/`FuturesUnordered`: aborted or dropped with it.
    Set,
}

impl Spawner {
    /// Whether the spawned work is an OS thread (or runs on one, like `spawn_blocking`).
    pub fn is_thread(self) -> bool {
        matches!(self, Spawner::Thread)
    }
}

/// Which API starts the work: finer than [`Spawner`], for the task inventory
/// (`taskcheck tasks`), which names the runtime a task runs on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpawnApi {
    Tokio,
    TokioLocal,
    TokioBlocking,
    AsyncStd,
    AsyncStdBlocking,
    ActixRt,
    ActixRtBlocking,
    NtexRt,
    Smol,
    AsyncGlobalExecutor,
    AsyncTask,
    Thread,
    ScopedThread,
    JoinSet,
    TaskTracker,
    Executor,
    RuntimeHandle,
    RuntimeHandleBlocking,
}

impl SpawnApi {
    /// The stable machine name (JSON).
    pub fn id(self) -> &'static str {
        match self {
            SpawnApi::Tokio => "tokio",
            SpawnApi::TokioLocal => "tokio_local",
            SpawnApi::TokioBlocking => "tokio_blocking",
            SpawnApi::AsyncStd => "async_std",
            SpawnApi::AsyncStdBlocking => "async_std_blocking",
            SpawnApi::ActixRt => "actix_rt",
            SpawnApi::ActixRtBlocking => "actix_rt_blocking",
            SpawnApi::NtexRt => "ntex_rt",
            SpawnApi::Smol => "smol",
            SpawnApi::AsyncGlobalExecutor => "async_global_executor",
            SpawnApi::AsyncTask => "async_task",
            SpawnApi::Thread => "thread",
            SpawnApi::ScopedThread => "scoped_thread",
            SpawnApi::JoinSet => "join_set",
            SpawnApi::TaskTracker => "task_tracker",
            SpawnApi::Executor => "executor",
            SpawnApi::RuntimeHandle => "runtime_handle",
            SpawnApi::RuntimeHandleBlocking => "runtime_handle_blocking",
        }
    }

    /// How a person names it (the inventory table).
    pub fn label(self) -> &'static str {
        match self {
            SpawnApi::Tokio => "tokio",
            SpawnApi::TokioLocal => "tokio local",
            SpawnApi::TokioBlocking => "tokio blocking",
            SpawnApi::AsyncStd => "async-std",
            SpawnApi::AsyncStdBlocking => "async-std blocking",
            SpawnApi::ActixRt => "actix-rt",
            SpawnApi::ActixRtBlocking => "actix-rt blocking",
            SpawnApi::NtexRt => "ntex-rt",
            SpawnApi::Smol => "smol",
            SpawnApi::AsyncGlobalExecutor => "async-global-executor",
            SpawnApi::AsyncTask => "async-task",
            SpawnApi::Thread => "thread",
            SpawnApi::ScopedThread => "scoped thread",
            SpawnApi::JoinSet => "JoinSet",
            SpawnApi::TaskTracker => "TaskTracker",
            SpawnApi::Executor => "executor",
            SpawnApi::RuntimeHandle => "runtime handle",
            SpawnApi::RuntimeHandleBlocking => "runtime handle blocking",
        }
    }

    /// The API of a `.spawn(..)` on a receiver classified as `spawner`.
    pub fn of_receiver(spawner: Spawner) -> SpawnApi {
        match spawner {
            Spawner::Set => SpawnApi::JoinSet,
            Spawner::Tracker => SpawnApi::TaskTracker,
            Spawner::CancelOnDrop => SpawnApi::Executor,
            Spawner::Scoped => SpawnApi::ScopedThread,
            Spawner::Thread => SpawnApi::Thread,
            Spawner::Blocking => SpawnApi::RuntimeHandleBlocking,
            Spawner::Task => SpawnApi::RuntimeHandle,
        }
    }
}

/// The API a resolved free-fn spawn path names (the same paths as [`spawner_of_path`]).
pub fn api_of_path(path: &Resolved) -> Option<SpawnApi> {
    const APIS: &[(&str, SpawnApi)] = &[
        ("tokio::spawn", SpawnApi::Tokio),
        ("tokio::task::spawn_local", SpawnApi::TokioLocal),
        ("tokio::task::spawn_blocking", SpawnApi::TokioBlocking),
        ("async_std::task::spawn", SpawnApi::AsyncStd),
        ("async_std::task::spawn_local", SpawnApi::AsyncStd),
        ("async_std::spawn", SpawnApi::AsyncStd),
        ("async_std::task::spawn_blocking", SpawnApi::AsyncStdBlocking),
        ("actix_rt::spawn", SpawnApi::ActixRt),
        ("actix_rt::task::spawn_blocking", SpawnApi::ActixRtBlocking),
        ("ntex_rt::spawn", SpawnApi::NtexRt),
        ("std::thread::spawn", SpawnApi::Thread),
        ("smol::spawn", SpawnApi::Smol),
        ("async_global_executor::spawn", SpawnApi::AsyncGlobalExecutor),
        ("async_global_executor::spawn_local", SpawnApi::AsyncGlobalExecutor),
        ("async_task::spawn", SpawnApi::AsyncTask),
        ("async_task::spawn_local", SpawnApi::AsyncTask),
    ];
    APIS.iter().find(|(p, _)| path.is(p)).map(|(_, a)| *a)
}

/// What happens to the handle a spawn returns.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// Awaited, joined, aborted, stored, returned or passed on.
    Kept,
    /// Dropped: an expression statement, `let _ =`, `drop(..)`, or bound and never used.
    Dropped,
    /// `.detach()` called on it.
    Detached,
}

/// Kinds of values that change what a `.spawn(..)` on them means.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `JoinSet`, `JoinMap`, `FuturesUnordered`, `LocalSet`.
    TaskSet,
    /// `tokio_util::task::TaskTracker`.
    Tracker,
    /// An async-executor/smol `Executor`: its `spawn` returns a cancel-on-drop `Task`.
    Executor,
    /// A `CancellationToken`.
    Cancel,
    /// A thread/rayon/crossbeam scope.
    Scope,
}

/// The kind named by a type's last path segment.
pub fn kind_of_type_name(name: &str) -> Option<ValueKind> {
    Some(match name {
        // A `LocalSet` drops its tasks when it is dropped, like a `JoinSet`.
        "JoinSet" | "JoinMap" | "FuturesUnordered" | "FuturesOrdered" | "LocalSet" => ValueKind::TaskSet,
        "TaskTracker" => ValueKind::Tracker,
        "Executor" | "LocalExecutor" | "StaticExecutor" | "StaticLocalExecutor" => ValueKind::Executor,
        "CancellationToken" | "DropGuard" => ValueKind::Cancel,
        "Scope" | "ScopeFifo" => ValueKind::Scope,
        _ => return None,
    })
}

/// The kind of a type, looking through wrappers (`Arc<JoinSet<..>>`, `Option<..>`, `&Scope`).
pub fn kind_of_type(ty: &syn::Type) -> Option<ValueKind> {
    match ty {
        syn::Type::Path(p) => {
            for seg in p.path.segments.iter().rev() {
                if let Some(k) = kind_of_type_name(&seg.ident.to_string()) {
                    return Some(k);
                }
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    for a in &args.args {
                        if let syn::GenericArgument::Type(t) = a {
                            if let Some(k) = kind_of_type(t) {
                                return Some(k);
                            }
                        }
                    }
                }
            }
            None
        }
        syn::Type::Reference(r) => kind_of_type(&r.elem),
        syn::Type::Paren(p) => kind_of_type(&p.elem),
        _ => None,
    }
}

/// The kind of value a constructor path creates (`JoinSet::new`, `CancellationToken::new`).
pub fn kind_of_constructor(path: &Resolved) -> Option<ValueKind> {
    let segs = &path.segments;
    if segs.len() < 2 {
        return None;
    }
    let ctor = segs[segs.len() - 1].as_str();
    if !matches!(ctor, "new" | "default" | "with_capacity") {
        return None;
    }
    kind_of_type_name(&segs[segs.len() - 2])
}

/// The spawner a resolved free-fn path names (`tokio::spawn`, `std::thread::spawn`, ...).
pub fn spawner_of_path(path: &Resolved) -> Option<Spawner> {
    const TASKS: &[&str] = &[
        "tokio::spawn",
        "tokio::task::spawn_local",
        "async_std::task::spawn",
        "async_std::task::spawn_local",
        "async_std::spawn",
        "actix_rt::spawn",
        "ntex_rt::spawn",
    ];
    const BLOCKING: &[&str] =
        &["tokio::task::spawn_blocking", "async_std::task::spawn_blocking", "actix_rt::task::spawn_blocking"];
    const CANCEL_ON_DROP: &[&str] = &[
        "smol::spawn",
        "async_global_executor::spawn",
        "async_global_executor::spawn_local",
        "async_task::spawn",
        "async_task::spawn_local",
    ];
    if path.is_any(TASKS) {
        Some(Spawner::Task)
    } else if path.is_any(BLOCKING) {
        Some(Spawner::Blocking)
    } else if path.is("std::thread::spawn") {
        Some(Spawner::Thread)
    } else if path.is_any(CANCEL_ON_DROP) {
        Some(Spawner::CancelOnDrop)
    } else {
        None
    }
}

/// Method names that start concurrent work on any receiver (runtime handles, local
/// sets, builders, executors, sets, scopes).
pub fn is_spawn_method(name: &str) -> bool {
    matches!(name, "spawn" | "spawn_local" | "spawn_blocking" | "spawn_pinned" | "spawn_obj" | "spawn_local_obj")
}

/// Names of calls and methods that evaluate a closure once for the whole process
/// (a spawn inside them is a process-lifetime singleton).
pub fn is_once_initialiser(name: &str) -> bool {
    matches!(name, "get_or_init" | "get_or_try_init" | "call_once" | "call_once_force" | "get_or_init_blocking")
}

/// Type names whose `new(|| ..)` constructor runs its closure once (`Lazy::new`).
pub fn is_lazy_type(name: &str) -> bool {
    matches!(name, "Lazy" | "LazyLock" | "LazyCell" | "OnceCell" | "OnceLock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::paths::{Resolver, UseScope};

    fn resolve(uses: &str, path: &str) -> Resolved {
        let file = syn::parse_file(uses).unwrap();
        let mut r = Resolver::default();
        r.push(UseScope::from_items(&file.items));
        r.resolve(&syn::parse_str(path).unwrap())
    }

    #[test]
    fn spawners_by_resolved_path() {
        assert_eq!(spawner_of_path(&resolve("", "tokio::spawn")), Some(Spawner::Task));
        assert_eq!(spawner_of_path(&resolve("use tokio::task;", "task::spawn")), Some(Spawner::Task));
        assert_eq!(
            spawner_of_path(&resolve("use tokio::task::spawn_blocking;", "spawn_blocking")),
            Some(Spawner::Blocking)
        );
        assert_eq!(spawner_of_path(&resolve("use std::thread;", "thread::spawn")), Some(Spawner::Thread));
        assert_eq!(spawner_of_path(&resolve("", "smol::spawn")), Some(Spawner::CancelOnDrop));
        assert_eq!(spawner_of_path(&resolve("use actix_web::rt;", "rt::spawn")), Some(Spawner::Task));
        // An unresolved bare `spawn` is not guessed.
        assert_eq!(spawner_of_path(&resolve("", "spawn")), None);
        // Every path with a spawner names its API, and the other way round.
        for p in
            ["tokio::spawn", "tokio::task::spawn_blocking", "std::thread::spawn", "smol::spawn", "async_std::spawn"]
        {
            let r = resolve("", p);
            assert!(spawner_of_path(&r).is_some() && api_of_path(&r).is_some(), "{p}");
        }
        assert_eq!(api_of_path(&resolve("use tokio::task;", "task::spawn_blocking")), Some(SpawnApi::TokioBlocking));
        assert_eq!(api_of_path(&resolve("use actix_web::rt;", "rt::spawn")), Some(SpawnApi::ActixRt));
    }

    #[test]
    fn value_kinds_through_wrappers() {
        let ty: syn::Type = syn::parse_str("Arc<Mutex<Option<JoinSet<()>>>>").unwrap();
        assert_eq!(kind_of_type(&ty), Some(ValueKind::TaskSet));
        let ty: syn::Type = syn::parse_str("&std::thread::Scope<'_, '_>").unwrap();
        assert_eq!(kind_of_type(&ty), Some(ValueKind::Scope));
        assert_eq!(
            kind_of_constructor(&resolve("use tokio_util::sync::CancellationToken;", "CancellationToken::new")),
            Some(ValueKind::Cancel)
        );
        assert_eq!(kind_of_constructor(&resolve("", "Vec::new")), None);
    }
}
