//! The facts each scenario exists to show, asserted on a live run: one file
//! per scenario, named after its module in src/scenarios/, and the checks that
//! span every scenario in all.rs. The helpers they share are in helpers.rs.
//! (Snapshots in tests/snapshots.rs hold the rendered output.)

mod helpers;

mod all;

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
mod over_aligned;
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
