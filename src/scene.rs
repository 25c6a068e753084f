//! What a scenario hands back besides its heap events: named stack locals
//! (with the heap block they point to) and labelled observations.
//!
//! A [`Scene`] never allocates while the scenario runs: its storage is reserved
//! before recording starts, and every probe runs with recording paused, so the
//! probes neither appear in the trace nor move the scenario's heap blocks.
//!
//! A scenario can start threads with [`Scene::spawn`]: each runs under its own
//! recording with its own `Scene`, and [`Scene::join`] hands both back, so the
//! trace holds every thread's events in one order.

use std::fmt::{self, Debug, Write as _};
use std::mem;
use std::panic::Location;

use crate::recorder::{self, Options, Recording};
use crate::region::{self, Region};

/// Probes one scenario may take before further ones are dropped (and counted).
const MAX_PROBES: usize = 256;
/// Values one observation may carry.
pub const MAX_FIELDS: usize = 4;

/// What a probe knows about one stack slot.
struct Slot {
    name: &'static str,
    type_name: &'static str,
    address: usize,
    size: usize,
    align: usize,
}

/// Pushes into storage reserved up front, never growing it (growing would
/// allocate while recording); what does not fit is counted in `dropped`.
fn bounded_push<T>(storage: &mut Vec<T>, item: T, dropped: &mut usize) {
    if storage.len() < storage.capacity() {
        storage.push(item);
    } else {
        *dropped += 1;
    }
}

/// Threads one scene may start.
const MAX_THREADS: usize = 16;

/// The probes of one scenario run (on one thread).
pub struct Scene {
    locals: Vec<Local>,
    observations: Vec<Observation>,
    kept: Vec<Kept>,
    frame: &'static str,
    dropped: usize,
    /// The thread these probes run on, as traces name it.
    thread: &'static str,
    /// How threads started with `spawn` record.
    options: Options,
    children: Vec<Child>,
    /// Threads started and not yet joined.
    running: usize,
    /// Locals and scope ends noted so far: the next one's `order`.
    probes: usize,
    /// The size a sized scenario runs at (`memlab trace many-boxes --n 1000`).
    n: usize,
    scope_ends: Vec<ScopeEnd>,
}

/// A thread started by a scene, joined: its recording and its probes.
pub struct Child {
    pub thread: &'static str,
    pub recording: Recording<()>,
    pub scene: Scene,
}

/// A thread started with [`Scene::spawn`]; give it to [`Scene::join`].
pub struct Spawned {
    thread: &'static str,
    handle: std::thread::JoinHandle<(Recording<()>, Scene)>,
}

/// A named local variable: where it sits on the stack and, for pointer types,
/// the heap block it points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Local {
    /// The thread the local belongs to.
    pub thread: &'static str,
    /// The function the local belongs to, as named by [`Scene::frame`].
    pub frame: &'static str,
    pub name: &'static str,
    /// `std::any::type_name` of the local.
    pub type_name: &'static str,
    pub address: usize,
    pub size: usize,
    pub align: usize,
    pub points_to: Option<Target>,
    /// The start of what it points to, as text (`[1, 2, 3, 4]`, `"hello"`),
    /// taken when probed; empty when the type does not say.
    pub preview: Preview,
    /// Where the local itself is: this thread's stack, as far as memlab can tell.
    pub region: Region,
    /// Source line of the probe.
    pub line: u32,
    /// Heap events (of all threads) recorded before this probe.
    pub after_event: usize,
    /// Where the probe falls among the events (see `recorder::probe_mark`).
    pub mark: (u64, usize),
    /// Position among this thread's locals and scope ends, in the order taken.
    pub order: usize,
}

/// Locals the scenario says have gone out of scope (their block, if any, may
/// live on: a leak, or an `Rc` another owner holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScopeEnd {
    pub thread: &'static str,
    pub frame: &'static str,
    pub names: &'static [&'static str],
    /// Source line of the probe.
    pub line: u32,
    /// Heap events (of all threads) recorded before it.
    pub after_event: usize,
    /// Where it falls among the events (see `recorder::probe_mark`).
    pub mark: (u64, usize),
    /// Position among this thread's locals and scope ends, in the order taken.
    pub order: usize,
}

/// A block the scenario leaves alive on purpose: not a leak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kept {
    pub name: &'static str,
    /// The address the pointer held: the kept block's.
    pub address: usize,
    /// Source line of the probe.
    pub line: u32,
}

/// Where a pointer-holding local points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub address: usize,
    pub len: Option<usize>,
    pub capacity: Option<usize>,
    /// Where the target is; filled in after the run (see `Trace::run`).
    pub region: Region,
}

/// Labelled values a scenario noted at one moment, e.g. a Vec's len and capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The thread that made the observation.
    pub thread: &'static str,
    pub label: &'static str,
    fields: [(&'static str, usize); MAX_FIELDS],
    count: usize,
    pub line: u32,
    /// Heap events (of all threads) recorded before this observation.
    pub after_event: usize,
    /// Where the observation falls among the events (see `recorder::probe_mark`).
    pub mark: (u64, usize),
}

impl Observation {
    pub fn fields(&self) -> &[(&'static str, usize)] {
        &self.fields[..self.count]
    }

    pub fn get(&self, name: &str) -> Option<usize> {
        self.fields()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
    }
}

impl Target {
    /// A pointer's target; its region is filled in after the run.
    pub fn new(address: usize, len: Option<usize>, capacity: Option<usize>) -> Target {
        Target {
            address,
            len,
            capacity,
            region: Region::Unknown,
        }
    }
}

/// Values that point to memory: `Box`, `Vec`, `String`, `&str`, slices, `Rc`, `Arc`.
pub trait Pointer {
    fn target(&self) -> Target;

    /// Writes the start of the memory pointed to, for diagrams. Writing past
    /// the preview's room stops the formatting, so this never allocates.
    fn preview(&self, _out: &mut Preview) {}
}

/// Room for a preview, in bytes.
const PREVIEW_BYTES: usize = 40;

/// A short text that never allocates: what fits of what was written to it,
/// cut at a character boundary and ending in `…` when cut.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    bytes: [u8; PREVIEW_BYTES],
    len: u8,
    cut: bool,
}

impl Default for Preview {
    fn default() -> Self {
        Preview {
            bytes: [0; PREVIEW_BYTES],
            len: 0,
            cut: false,
        }
    }
}

impl Preview {
    /// The text as written, without the `…` of a cut.
    pub fn text(&self) -> &str {
        // Only whole UTF-8 characters are ever copied in (see `write_str`).
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }

    /// Whether more was written than fits.
    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// Formats `value` with `Debug` into a new preview.
    fn debug(value: &(impl Debug + ?Sized)) -> Preview {
        let mut preview = Preview::default();
        // An error only means the preview is full.
        let _ = write!(preview, "{value:?}");
        preview
    }
}

impl fmt::Write for Preview {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let len = usize::from(self.len);
        let room = PREVIEW_BYTES - len;
        if s.len() <= room {
            self.bytes[len..len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len() as u8;
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.bytes[len..len + end].copy_from_slice(&s.as_bytes()[..end]);
        self.len += end as u8;
        self.cut = true;
        Err(fmt::Error)
    }
}

impl Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}{}", self.text(), if self.cut { "…" } else { "" })
    }
}

impl<T: ?Sized + Debug> Pointer for Box<T> {
    fn target(&self) -> Target {
        Target::new((&**self as *const T).cast::<u8>() as usize, None, None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(&**self);
    }
}

impl<T: Debug> Pointer for Vec<T> {
    fn target(&self) -> Target {
        Target::new(
            self.as_ptr() as usize,
            Some(self.len()),
            Some(self.capacity()),
        )
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_slice());
    }
}

impl Pointer for String {
    fn target(&self) -> Target {
        Target::new(
            self.as_ptr() as usize,
            Some(self.len()),
            Some(self.capacity()),
        )
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_str());
    }
}

impl Pointer for &str {
    fn target(&self) -> Target {
        Target::new(self.as_ptr() as usize, Some(self.len()), None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(*self);
    }
}

impl<T: Debug> Pointer for &[T] {
    fn target(&self) -> Target {
        Target::new(self.as_ptr() as usize, Some(self.len()), None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(*self);
    }
}

/// An `Rc` points at its value, inside the block that also holds its counts.
impl<T: ?Sized> Pointer for std::rc::Rc<T> {
    fn target(&self) -> Target {
        Target::new(std::rc::Rc::as_ptr(self).cast::<u8>() as usize, None, None)
    }

    /// Its counts as `strong_count` and `weak_count` report them (the block
    /// stores them beside the value, the weak one plus 1 while any strong lives).
    fn preview(&self, out: &mut Preview) {
        let (strong, weak) = (
            std::rc::Rc::strong_count(self),
            std::rc::Rc::weak_count(self),
        );
        let _ = write!(out, "strong_count {strong}, weak_count {weak}");
    }
}

/// An `Arc` points at its value, inside the block that also holds its counts.
impl<T: ?Sized> Pointer for std::sync::Arc<T> {
    fn target(&self) -> Target {
        Target::new(
            std::sync::Arc::as_ptr(self).cast::<u8>() as usize,
            None,
            None,
        )
    }

    /// Its counts as `strong_count` and `weak_count` report them (the block
    /// stores them beside the value, the weak one plus 1 while any strong lives).
    fn preview(&self, out: &mut Preview) {
        let strong = std::sync::Arc::strong_count(self);
        let weak = std::sync::Arc::weak_count(self);
        let _ = write!(out, "strong_count {strong}, weak_count {weak}");
    }
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
            locals: Vec::with_capacity(MAX_PROBES),
            observations: Vec::with_capacity(MAX_PROBES),
            kept: Vec::with_capacity(MAX_PROBES),
            frame: "run",
            dropped: 0,
            thread,
            options,
            children: Vec::with_capacity(MAX_THREADS),
            running: 0,
            probes: 0,
            scope_ends: Vec::with_capacity(MAX_PROBES),
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
            Spawned {
                thread: name,
                handle,
            }
        })
    }

    /// Waits for a thread started with [`Scene::spawn`] and keeps its recording
    /// and probes for the trace.
    pub fn join(&mut self, spawned: Spawned) {
        recorder::paused(|| {
            match spawned.handle.join() {
                Ok((recording, scene)) if self.children.len() < self.children.capacity() => {
                    self.children.push(Child {
                        thread: spawned.thread,
                        recording,
                        scene,
                    });
                }
                // `record` catches the thread's panics; a full list drops the run.
                _ => self.dropped += 1,
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
        let exit = recorder::paused(|| crate::child::run(step));
        match exit {
            Some(crate::child::Exit::Signal(signal)) => {
                self.observe(label, &[("signal", signal as usize)]);
            }
            Some(crate::child::Exit::Code(code)) => {
                self.observe(label, &[("exit code", code as usize)]);
            }
            None => self.observe(label, &[]),
        }
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
    pub fn children(&self) -> &[Child] {
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
        let target = Some(Target::new(data, None, None));
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
        let target = Some(Target::new(words[other], None, None));
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
            let observation = Observation {
                thread: self.thread,
                label,
                fields,
                count,
                line,
                after_event: 0,
                mark: recorder::probe_mark(),
            };
            bounded_push(&mut self.observations, observation, &mut self.dropped);
        });
    }

    /// Notes that the named locals of the current frame have gone out of
    /// scope, for diagrams: their blocks may live on (a leak, or an `Rc`
    /// that another owner holds), but they are gone.
    #[track_caller]
    pub fn out_of_scope(&mut self, names: &'static [&'static str]) {
        let line = Location::caller().line();
        recorder::paused(|| {
            let end = ScopeEnd {
                thread: self.thread,
                frame: self.frame,
                names,
                line,
                after_event: 0,
                mark: recorder::probe_mark(),
                order: self.probes,
            };
            self.probes += 1;
            bounded_push(&mut self.scope_ends, end, &mut self.dropped);
        });
    }

    /// Declares that the block `value` points to stays alive on purpose, so
    /// the leak report lists it apart from the leaks.
    #[track_caller]
    pub fn keep<P: Pointer>(&mut self, name: &'static str, value: &P) {
        let line = Location::caller().line();
        let address = value.target().address;
        recorder::paused(|| {
            let kept = Kept {
                name,
                address,
                line,
            };
            bounded_push(&mut self.kept, kept, &mut self.dropped);
        });
    }

    fn push_local<T>(
        &mut self,
        name: &'static str,
        value: &T,
        points_to: Option<Target>,
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
    fn push_slot(&mut self, slot: Slot, points_to: Option<Target>, line: u32, preview: Preview) {
        recorder::paused(|| {
            let local = Local {
                thread: self.thread,
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
                after_event: 0,
                mark: recorder::probe_mark(),
                order: self.probes,
            };
            self.probes += 1;
            bounded_push(&mut self.locals, local, &mut self.dropped);
        });
    }

    pub fn locals(&self) -> &[Local] {
        &self.locals
    }

    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    pub fn kept(&self) -> &[Kept] {
        &self.kept
    }

    pub fn scope_ends(&self) -> &[ScopeEnd] {
        &self.scope_ends
    }

    /// Probes that did not fit in the reserved storage.
    pub fn dropped(&self) -> usize {
        self.dropped
    }
}
