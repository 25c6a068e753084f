//! The probe API: what code hands back besides its heap events. Named stack
//! locals (with the memory they point to), labelled observations, blocks kept
//! alive on purpose, and where locals went out of scope.
//!
//! A [`Scene`] never allocates while the code runs: its storage is reserved
//! before recording starts, and every probe runs with recording paused, so the
//! probes neither appear in the trace nor move the code's heap blocks. What
//! does not fit in the storage is counted, and the trace says so.
//!
//! Code can start threads with [`Scene::spawn`]: each runs under its own
//! recording with its own `Scene`, and [`Scene::join`] hands both back, so the
//! trace holds every thread's events in one order.
//!
//! The records here are raw: `crate::capture::trace` places each among the
//! events and turns it into the vocabulary's `Local`, `Observation`, ….

use std::mem;
use std::panic::Location;

use super::pointer::{Pointee, Pointer};
use super::recorder::{self, Recording};
use super::{Options, region};
use crate::trace::{Preview, Region};

/// Values one observation may carry; further values are left out.
pub const MAX_FIELDS: usize = 4;

/// Threads one scene may start and keep; a thread joined past this is left
/// out of the trace, and its events and probes are counted as lost.
const MAX_THREADS: usize = 16;

/// Where a probe falls among the events: `(key, n)` means after every event
/// with a smaller key and after this thread's first `n` events (see
/// `recorder::probe_mark`).
pub(crate) type Mark = (u64, usize);

/// What a probe knows about one stack slot.
struct Slot {
    name: &'static str,
    type_name: &'static str,
    address: usize,
    size: usize,
    align: usize,
}

/// A local as probed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProbedLocal {
    pub frame: &'static str,
    pub name: &'static str,
    pub type_name: &'static str,
    pub address: usize,
    pub size: usize,
    pub align: usize,
    pub points_to: Option<Pointee>,
    pub preview: Preview,
    pub region: Region,
    pub line: u32,
    pub mark: Mark,
    /// Position among this thread's locals and scope ends, in the order taken.
    pub order: usize,
}

/// An observation as noted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noted {
    pub label: &'static str,
    fields: [(&'static str, usize); MAX_FIELDS],
    count: usize,
    pub line: u32,
    pub mark: Mark,
}

impl Noted {
    pub fn fields(&self) -> &[(&'static str, usize)] {
        &self.fields[..self.count]
    }
}

/// Locals said to be out of scope.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ended {
    pub frame: &'static str,
    pub names: &'static [&'static str],
    pub line: u32,
    pub mark: Mark,
    pub order: usize,
}

/// A block kept alive on purpose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeptBlock {
    pub name: &'static str,
    pub address: usize,
    pub line: u32,
}

/// Storage reserved up front that never grows (growing would allocate while
/// recording): what does not fit is counted.
struct Room<T> {
    items: Vec<T>,
    dropped: u64,
}

impl<T> Room<T> {
    fn new(capacity: usize) -> Room<T> {
        Room {
            items: Vec::with_capacity(capacity),
            dropped: 0,
        }
    }

    fn push(&mut self, item: T) {
        if self.items.len() < self.items.capacity() {
            self.items.push(item);
        } else {
            self.dropped += 1;
        }
    }

    /// How many were pushed, kept or not.
    fn wanted(&self) -> usize {
        self.items.len() + self.dropped as usize
    }
}

/// The probes of one run (on one thread).
pub struct Scene {
    locals: Room<ProbedLocal>,
    observations: Room<Noted>,
    kept: Room<KeptBlock>,
    scope_ends: Room<Ended>,
    frame: &'static str,
    /// The thread these probes run on, as traces name it.
    thread: &'static str,
    /// How threads started with `spawn` record.
    options: Options,
    children: Vec<Child>,
    /// Threads started and not yet joined.
    running: usize,
    /// Events and probes of threads joined past `MAX_THREADS`.
    lost_events: u64,
    lost_probes: u64,
    /// Locals and scope ends noted so far: the next one's `order`.
    probes: usize,
    /// The size a sized scenario runs at (`memlab trace many-boxes --n 1000`).
    n: usize,
}

/// A thread started by a scene, joined: its recording and its probes.
pub(crate) struct Child {
    pub recording: Recording<()>,
    pub scene: Scene,
}

/// A thread started with [`Scene::spawn`]; give it to [`Scene::join`].
pub struct Spawned {
    handle: std::thread::JoinHandle<(Recording<()>, Scene)>,
}

impl Default for Scene {
    fn default() -> Self {
        Scene::new("main", Options::default())
    }
}

impl Scene {
    /// Reserves all probe storage up front (call before recording starts).
    /// `thread` names the thread in traces; threads it spawns record with
    /// `options`.
    pub fn new(thread: &'static str, options: Options) -> Scene {
        Scene {
            locals: Room::new(options.probes),
            observations: Room::new(options.probes),
            kept: Room::new(options.probes),
            scope_ends: Room::new(options.probes),
            frame: "run",
            thread,
            options,
            children: Vec::with_capacity(MAX_THREADS),
            running: 0,
            lost_events: 0,
            lost_probes: 0,
            probes: 0,
            n: 0,
        }
    }

    /// The size a sized scenario was asked to run at (see `Scenario::default_n`).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Sets the size `n` returns.
    pub fn set_n(&mut self, n: usize) {
        self.n = n;
    }

    /// Starts a thread named `name` that runs `f` under its own recording, with
    /// its own scene. Starting and joining the thread are memlab's bookkeeping
    /// and are not recorded; what `f` does is.
    pub fn spawn<F>(&mut self, name: &'static str, f: F) -> Spawned
    where
        F: FnOnce(&mut Scene) + Send + 'static,
    {
        let options = self.options;
        recorder::paused(|| {
            // From now on this thread's events and the new thread's interleave:
            // both number each event from the shared counter.
            if self.running == 0 {
                recorder::order_globally(true);
            }
            self.running += 1;
            let handle = std::thread::Builder::new()
                .name(name.to_string())
                .spawn(move || {
                    recorder::order_globally(true);
                    let mut scene = Scene::new(name, options);
                    let recording = recorder::record(options, || f(&mut scene));
                    (recording, scene)
                })
                .expect("the operating system can start a thread");
            Spawned { handle }
        })
    }

    /// Waits for a thread started with [`Scene::spawn`] and keeps its recording
    /// and probes for the trace.
    pub fn join(&mut self, spawned: Spawned) {
        recorder::paused(|| {
            // `record` catches the thread's panics, so the join succeeds.
            if let Ok((recording, scene)) = spawned.handle.join() {
                if self.children.len() < self.children.capacity() {
                    self.children.push(Child { recording, scene });
                } else {
                    self.lost_events += recording.events().len() as u64 + recording.lost();
                    self.lost_probes += scene.probes_taken();
                }
            }
            self.running = self.running.saturating_sub(1);
            // Alone again: events after this sort after all the joined thread's.
            if self.running == 0 {
                recorder::order_globally(false);
            }
        })
    }

    /// Runs `step` in a child process, which may die (a stack overflow), and
    /// notes how it ended as an observation: field `signal` or `exit code`.
    /// `step` may only use the stack (see `child`). Not recorded: the child's
    /// memory is its own.
    #[track_caller]
    pub fn in_child_process(&mut self, label: &'static str, step: fn()) {
        let exit = recorder::paused(|| super::child::run(step));
        match exit {
            Some(super::child::Exit::Signal(signal)) => {
                self.observe(label, &[("signal", signal as usize)]);
            }
            Some(super::child::Exit::Code(code)) => {
                self.observe(label, &[("exit code", code as usize)]);
            }
            None => self.observe(label, &[]),
        }
    }

    /// The process's memory as the kernel sees it right now: its mappings,
    /// its brk heap and all its mapped bytes, from `/proc/self/maps` (all 0
    /// where that cannot be read). Reading it allocates nothing, so the
    /// heap it measures stays as it was; compare two readings to see whether
    /// the code between them made the allocator ask the kernel for memory.
    pub fn process_memory(&self) -> super::region::ProcessMemory {
        recorder::paused(super::region::process_memory).unwrap_or_default()
    }

    /// The size in bytes of the stack of the thread this scene runs on (0 if
    /// the platform does not say).
    pub fn stack_size(&self) -> usize {
        recorder::thread_stack().map_or(0, |(low, high)| high - low)
    }

    /// The thread this scene's probes ran on.
    pub fn thread(&self) -> &'static str {
        self.thread
    }

    /// Threads started and joined by this scene.
    pub(crate) fn children(&self) -> &[Child] {
        &self.children
    }

    /// Names the function whose locals the following probes describe.
    pub fn frame(&mut self, name: &'static str) {
        self.frame = name;
    }

    /// Records a local's stack address, size, alignment and type.
    #[track_caller]
    pub fn local<T>(&mut self, name: &'static str, value: &T) {
        let line = Location::caller().line();
        self.push_local(name, value, None, line, Preview::default());
    }

    /// Records a pointer-holding local, and the memory it points to.
    #[track_caller]
    pub fn pointer<P: Pointer>(&mut self, name: &'static str, value: &P) {
        let line = Location::caller().line();
        // Paused: formatting the preview must not show up in the trace.
        let preview = recorder::paused(|| {
            let mut preview = Preview::default();
            value.preview(&mut preview);
            preview
        });
        self.push_local(name, value, Some(value.target()), line, preview);
    }

    /// Records a trait-object pointer (`&dyn Trait`, `Box<dyn Trait>`): the
    /// pointer itself, pointing at its value, and a second row, `(vtable)`, for
    /// its other word, pointing at the vtable. The language does not fix which
    /// word is which, so memlab checks: only when one word equals the value's
    /// address is the other reported as the vtable pointer.
    #[track_caller]
    pub fn trait_object<P>(&mut self, name: &'static str, value: &P)
    where
        P: std::ops::Deref,
    {
        let line = Location::caller().line();
        let data = &**value as *const P::Target as *const () as usize;
        let target = Some(Pointee::new(data, None, None));
        self.push_local(name, value, target, line, Preview::default());
        if mem::size_of::<P>() != 2 * mem::size_of::<usize>() {
            return;
        }
        // SAFETY: `P` is exactly two words (checked above); this copies its
        // bits as two integers and never uses them as pointers.
        let words: [usize; 2] = unsafe { mem::transmute_copy(value) };
        let Some(data_word) = words.iter().position(|&w| w == data) else {
            return;
        };
        let other = 1 - data_word;
        let slot = Slot {
            name: "(vtable)",
            type_name: "vtable pointer",
            address: value as *const P as usize + other * mem::size_of::<usize>(),
            size: mem::size_of::<usize>(),
            align: mem::align_of::<usize>(),
        };
        let target = Some(Pointee::new(words[other], None, None));
        self.push_slot(slot, target, line, Preview::default());
    }

    /// Notes labelled values at this moment (at most [`MAX_FIELDS`]).
    #[track_caller]
    pub fn observe(&mut self, label: &'static str, values: &[(&'static str, usize)]) {
        let line = Location::caller().line();
        recorder::paused(|| {
            let mut fields = [("", 0); MAX_FIELDS];
            let count = values.len().min(MAX_FIELDS);
            fields[..count].copy_from_slice(&values[..count]);
            self.observations.push(Noted {
                label,
                fields,
                count,
                line,
                mark: recorder::probe_mark(),
            });
        });
    }

    /// Notes that the named locals of the current frame have gone out of
    /// scope, for diagrams: their blocks may live on (a leak, or an `Rc`
    /// that another owner holds), but they are gone.
    #[track_caller]
    pub fn out_of_scope(&mut self, names: &'static [&'static str]) {
        let line = Location::caller().line();
        recorder::paused(|| {
            self.scope_ends.push(Ended {
                frame: self.frame,
                names,
                line,
                mark: recorder::probe_mark(),
                order: self.probes,
            });
            self.probes += 1;
        });
    }

    /// Declares that the block `value` points to stays alive on purpose, so
    /// the leak report lists it apart from the leaks.
    #[track_caller]
    pub fn keep<P: Pointer>(&mut self, name: &'static str, value: &P) {
        let line = Location::caller().line();
        let address = value.target().address;
        recorder::paused(|| {
            self.kept.push(KeptBlock {
                name,
                address,
                line,
            });
        });
    }

    fn push_local<T>(
        &mut self,
        name: &'static str,
        value: &T,
        points_to: Option<Pointee>,
        line: u32,
        preview: Preview,
    ) {
        let slot = Slot {
            name,
            type_name: std::any::type_name::<T>(),
            address: value as *const T as usize,
            size: mem::size_of::<T>(),
            align: mem::align_of::<T>(),
        };
        self.push_slot(slot, points_to, line, preview);
    }

    /// Records a stack slot as a local of the current thread and frame.
    fn push_slot(&mut self, slot: Slot, points_to: Option<Pointee>, line: u32, preview: Preview) {
        recorder::paused(|| {
            let local = ProbedLocal {
                frame: self.frame,
                name: slot.name,
                type_name: slot.type_name,
                address: slot.address,
                size: slot.size,
                align: slot.align,
                points_to,
                preview,
                region: region::of_stack_address(
                    slot.address,
                    recorder::thread_stack(),
                    region::is_main_thread(),
                ),
                line,
                mark: recorder::probe_mark(),
                order: self.probes,
            };
            self.probes += 1;
            self.locals.push(local);
        });
    }

    pub(crate) fn locals(&self) -> &[ProbedLocal] {
        &self.locals.items
    }

    pub(crate) fn observations(&self) -> &[Noted] {
        &self.observations.items
    }

    pub(crate) fn kept(&self) -> &[KeptBlock] {
        &self.kept.items
    }

    pub(crate) fn scope_ends(&self) -> &[Ended] {
        &self.scope_ends.items
    }

    /// Probes that did not fit in the reserved storage (with those of
    /// threads that could not be kept).
    pub(crate) fn dropped(&self) -> u64 {
        self.locals.dropped
            + self.observations.dropped
            + self.kept.dropped
            + self.scope_ends.dropped
            + self.lost_probes
    }

    /// Events of joined threads that could not be kept.
    pub(crate) fn lost_events(&self) -> u64 {
        self.lost_events
    }

    /// The most probes of one kind this scene was asked to keep.
    pub(crate) fn probes_wanted(&self) -> usize {
        [
            self.locals.wanted(),
            self.observations.wanted(),
            self.kept.wanted(),
            self.scope_ends.wanted(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Every probe this scene was asked to take, kept or not.
    fn probes_taken(&self) -> u64 {
        (self.locals.wanted()
            + self.observations.wanted()
            + self.kept.wanted()
            + self.scope_ends.wanted()) as u64
            + self.lost_probes
    }
}
