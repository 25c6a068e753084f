//! A program of a user's that makes 1,000,000 heap events: 500,000 boxes,
//! each allocated and freed (BENCHMARKS.md, "memlab run").
fn main() {
    let mut sum = 0u64;
    for i in 0..500_000u64 {
        let b = std::hint::black_box(Box::new(i));
        sum = sum.wrapping_add(*b);
    }
    println!("{sum}");
}
