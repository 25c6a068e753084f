use crate::helpers::*;

use memlab::trace::Kind;

#[test]
fn alignment_pads_repr_c_and_over_aligns_on_stack_and_heap() {
    let trace = run("alignment");
    let layout = |name: &str| {
        let l = local(&trace, name);
        (l.size, l.align)
    };
    assert_eq!(
        layout("mixed_c"),
        (12, 4),
        "repr(C): declaration order, padded"
    );
    // Today's compiler reorders the default-repr struct into 8 bytes; the Rust
    // Reference guarantees no layout for it, so this is an observation, not a rule.
    assert_eq!(layout("mixed"), (8, 4));
    assert_eq!(layout("pair"), (16, 8));
    assert_eq!(layout("line"), (64, 64));

    let offsets = |label: &str, fields: &[&str]| -> Vec<usize> {
        let o = observation(&trace, label);
        fields.iter().map(|f| o.get(f).unwrap()).collect()
    };
    assert_eq!(offsets("MixedC", &["a", "b", "c"]), [0, 4, 8]);
    // Default repr: whatever the order, each field is aligned and inside the value.
    let mixed = offsets("Mixed", &["a", "b", "c"]);
    for (offset, (size, align)) in mixed.iter().zip([(1, 1), (4, 4), (2, 2)]) {
        assert_eq!(offset % align, 0, "{mixed:?}");
        assert!(offset + size <= 8, "{mixed:?}");
    }
    let pair = offsets("(u8, u64)", &["0", "1"]);
    assert_eq!(pair[1] % 8, 0, "{pair:?}");
    assert_ne!(pair[0], pair[1]);

    // The over-aligned Box: the allocator is asked for align 64, and honours it.
    assert_eq!(kinds(&trace.events), [Kind::Alloc, Kind::Dealloc]);
    let (alloc, free) = (&trace.events[0], &trace.events[1]);
    assert_eq!((alloc.size, alloc.align), (64, 64));
    assert_eq!(alloc.address % 64, 0);
    assert_eq!(free.address, alloc.address);
    assert_eq!(alloc.line, Some(line_of("alignment", "Box::new(")));
    assert_eq!(target(&trace, "boxed"), alloc.address);
    assert_eq!(observation(&trace, "boxed").get("addr % 64"), Some(0));
    assert_eq!(observation(&trace, "line").get("addr % 64"), Some(0));
}
