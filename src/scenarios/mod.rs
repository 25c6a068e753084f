//! The scenarios: small Rust programs memlab runs under its recorder.
//!
//! Each scenario is one file in this folder with a `pub fn run(s: &mut Scene)`.
//! The file's text is embedded, so the listing a student reads is the code that
//! ran. Scenarios never print; they hand data back through the [`Scene`].
//! Adding one: write the file, then add one `scenario!` line to `SCENARIOS`.

use crate::capture::{self, Options};
use crate::trace::{Source, Trace};
use memlab::Scene;

mod alignment;
mod big_data;
mod box_dyn;
mod boxed;
mod capacity;
mod clone_vs_move;
mod drop_order;
mod hashmap;
mod leaks;
mod locals;
mod many_boxes;
mod over_aligned;
mod panics;
// Its subject is calling the allocator by hand, which is `unsafe`: the one
// scenario allowed it (ARCHITECTURE.md, invariants).
#[allow(unsafe_code)]
mod raw_alloc;
mod rc_arc;
mod rc_cycle;
mod recursion;
mod small_box;
mod string_drop;
mod string_growth;
mod thousand_boxes;
mod threads;
mod vec_growth;
mod zero_sized;

/// One runnable scenario.
#[derive(Debug)]
pub struct Scenario {
    /// The name users type: `memlab trace <id>`.
    pub id: &'static str,
    pub title: &'static str,
    /// One line for `memlab list`.
    pub summary: &'static str,
    /// Path of the scenario's source file, as the compiler names it; heap events
    /// are tied to the first frame in this file.
    pub file: &'static str,
    /// The scenario's source text.
    pub source: &'static str,
    pub run: fn(&mut Scene),
    /// For a sized scenario, the size it runs at unless `--n` says otherwise
    /// (see `Scene::n`); `None` for the others.
    pub default_n: Option<usize>,
}

impl Scenario {
    /// What a trace of this scenario names and quotes.
    pub fn source(&self) -> Source {
        Source {
            id: self.id.into(),
            title: self.title.into(),
            summary: self.summary.into(),
            file: self.file.into(),
            text: self.source.into(),
            program: false,
            command: format!("memlab trace {}", self.id).into(),
        }
    }

    /// Runs the scenario under the recorder, a sized one at size `n` (its
    /// default when `None`; ignored by scenarios that take no size).
    pub fn trace(&self, options: Options, n: Option<usize>) -> Trace {
        let n = n.or(self.default_n).unwrap_or(0);
        capture::trace(self.source(), options, |s| {
            s.set_n(n);
            (self.run)(s)
        })
    }
}

/// A set of scenarios: the ones `memlab list` shows, and hidden ones that
/// can be run by id but are never listed or suggested.
#[derive(Debug)]
pub struct Catalogue {
    pub listed: &'static [Scenario],
    pub hidden: &'static [Scenario],
}

impl Catalogue {
    /// The scenario named `id`, listed or hidden.
    pub fn find(&self, id: &str) -> Option<&'static Scenario> {
        self.listed.iter().chain(self.hidden).find(|s| s.id == id)
    }

    /// Up to three listed scenario ids closest to `id` in spelling, closest first.
    pub fn closest(&self, id: &str) -> Vec<&'static str> {
        crate::closest(id, self.listed.iter().map(|s| s.id))
    }
}

impl crate::lessons::Scenarios for Catalogue {
    fn knows(&self, id: &str) -> bool {
        self.find(id).is_some()
    }

    fn closest(&self, id: &str) -> Vec<&str> {
        Catalogue::closest(self, id)
    }
}

/// memlab's own scenarios.
pub const BUILT_IN: Catalogue = Catalogue {
    listed: SCENARIOS,
    hidden: HIDDEN,
};

macro_rules! scenario {
    ($module:ident, $id:literal, $title:literal, $summary:literal) => {
        Scenario {
            id: $id,
            title: $title,
            summary: $summary,
            file: concat!("src/scenarios/", stringify!($module), ".rs"),
            source: include_str!(concat!(stringify!($module), ".rs")),
            run: $module::run,
            default_n: None,
        }
    };
    ($module:ident, $id:literal, $title:literal, $summary:literal, n = $n:literal) => {
        Scenario {
            default_n: Some($n),
            ..scenario!($module, $id, $title, $summary)
        }
    };
}

/// Every scenario, in the order `memlab list` shows them.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        locals,
        "locals",
        "Locals on the stack",
        "Integers, a float, an array, a tuple and a struct in nested frames: no heap at all"
    ),
    scenario!(
        boxed,
        "box",
        "One value in a Box",
        "Box::new puts a value on the heap; moving the Box moves only the pointer; drop frees"
    ),
    scenario!(
        vec_growth,
        "vec-growth",
        "A Vec growing push by push",
        "Length and capacity after every push, and each reallocation, in place or moved"
    ),
    scenario!(
        string_drop,
        "string-drop",
        "Strings and their drop",
        "A String's pointer, length and capacity on the stack, its bytes on the heap, freed at scope end"
    ),
    scenario!(
        recursion,
        "recursion",
        "Each call gets its own frame",
        "A recursive function's local at four depths: each call one frame lower, the same distance"
    ),
    scenario!(
        alignment,
        "alignment",
        "Size, alignment and padding",
        "Field offsets with and without repr(C), a tuple, and a 64-byte-aligned type on stack and heap"
    ),
    scenario!(
        raw_alloc,
        "raw-alloc",
        "Allocating by hand with std::alloc",
        "Layout::new, from_size_align and array: alloc, write, then dealloc with the same layout"
    ),
    scenario!(
        leaks,
        "leaks",
        "Leaking memory in safe Rust",
        "Box::leak, mem::forget and an Rc cycle: blocks nothing frees, still live at the end"
    ),
    scenario!(
        threads,
        "threads",
        "Threads, their stacks and a shared Arc",
        "A stack for each thread, where each thread's heap blocks come from, and one block shared by an Arc"
    ),
    scenario!(
        big_data,
        "big-data",
        "Big blocks and small stacks",
        "Where a 1 MiB block goes, two ways to box 64 KiB, and a stack overflow in a child"
    ),
    scenario!(
        rc_arc,
        "rc-arc",
        "Rc and Arc: one block, two counts",
        "Rc::new allocates the counts with the value; clones and Weaks share the block; Arc alike"
    ),
    scenario!(
        rc_cycle,
        "rc-cycle",
        "An Rc cycle, and Weak to break it",
        "Two Rc nodes owning each other are never freed; a Weak link back lets both be freed"
    ),
    scenario!(
        zero_sized,
        "zero-sized",
        "Zero-sized types and empty Vecs",
        "Box<()>, a Box of an empty struct, a Vec of 1000 units and an empty Vec: no heap at all"
    ),
    scenario!(
        box_dyn,
        "box-dyn",
        "Trait objects and slices: two-word pointers",
        "Box<dyn Trait> and &dyn Trait: data and vtable pointers; Box<[T]> and &str: pointer and length"
    ),
    scenario!(
        capacity,
        "capacity",
        "Managing a Vec's capacity",
        "with_capacity, reserve vs reserve_exact, shrink_to_fit, clear keeping the block, vec![0; n]"
    ),
    scenario!(
        string_growth,
        "string-growth",
        "How a String grows",
        "push and push_str grow a String like a Vec<u8>; with_capacity reserves room; format! allocates"
    ),
    scenario!(
        clone_vs_move,
        "clone-vs-move",
        "Clone versus move",
        "A move copies a Vec's three words and keeps its block; a clone allocates a new block and copies"
    ),
    scenario!(
        drop_order,
        "drop-order",
        "The order of drops",
        "Locals in reverse order, struct fields in declaration order, a Vec's elements before it"
    ),
    scenario!(
        hashmap,
        "hashmap",
        "A HashMap growing",
        "One block per table: each growth allocates a bigger table, moves the entries, frees the old"
    ),
    scenario!(
        over_aligned,
        "over-aligned",
        "Over-aligned values on the heap",
        "A 64-byte-aligned type in a Box and a growing Vec: align 64 on every request, growth by copying"
    ),
    scenario!(
        small_box,
        "small-box",
        "Box::new(42): the request and the block",
        "The Layout of an i32 that Box::new asks for, and what the allocator reserves for it"
    ),
    scenario!(
        thousand_boxes,
        "thousand-boxes",
        "A thousand boxes and the kernel",
        "A thousand Box::new kept alive, and the process's mappings and brk heap before and after"
    ),
    scenario!(
        many_boxes,
        "many-boxes",
        "Many boxes, one after another",
        "n boxes allocated and freed in a loop (--n, default 1000): a long trace, to see how memlab scales",
        n = 1000
    ),
];

/// Scenarios for memlab's own tests: found by id, never listed or suggested.
pub const HIDDEN: &[Scenario] = &[scenario!(
    panics,
    "panics",
    "A scenario that panics",
    "Indexes past the end of a Vec: memlab reports the panic and exits 1"
)];

/// The built-in scenario named `id`.
pub fn find(id: &str) -> Option<&'static Scenario> {
    BUILT_IN.find(id)
}

/// Up to three built-in scenario ids closest to `id` in spelling, closest first.
pub fn closest(id: &str) -> Vec<&'static str> {
    BUILT_IN.closest(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_source_matches_the_file_on_disk() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let all: Vec<&Scenario> = SCENARIOS.iter().chain(HIDDEN).collect();
        for (i, scenario) in all.iter().enumerate() {
            assert!(
                all[..i].iter().all(|s| s.id != scenario.id),
                "duplicate id {}",
                scenario.id
            );
            let on_disk = std::fs::read_to_string(root.join(scenario.file)).unwrap();
            assert_eq!(on_disk, scenario.source, "{}", scenario.file);
        }
    }

    #[test]
    fn closest_suggests_near_misses() {
        assert_eq!(closest("vec-grwth")[0], "vec-growth");
        assert_eq!(closest("boxx")[0], "box");
        assert_eq!(
            find("vec-growth").unwrap().source().file_name(),
            "vec_growth.rs"
        );
    }
}
