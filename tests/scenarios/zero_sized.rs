use crate::helpers::*;

#[test]
fn zero_sized_values_and_empty_vecs_allocate_nothing() {
    let trace = run("zero-sized");
    assert_eq!(trace.panic, None);
    assert!(trace.events.is_empty(), "{:?}", trace.events);

    // A Box is one pointer even to nothing; a Vec is three words.
    for (name, size) in [("unit", 8), ("tag", 8), ("units", 24), ("empty", 24)] {
        assert_eq!(local(&trace, name).size, size, "{name}");
    }
    // Box pointers to zero-sized values are non-null and aligned.
    for name in ["unit", "tag"] {
        assert_ne!(target(&trace, name), 0, "{name}");
    }
    let (layout, pushes) = (observation_at(&trace, 0), observation_at(&trace, 1));
    assert_eq!(layout.get("size"), Some(0));
    assert_eq!(layout.get("align"), Some(1));
    // 1000 pushes of (): capacity usize::MAX from the start, never a block.
    assert_eq!(pushes.get("len"), Some(1000));
    assert_eq!(pushes.get("cap is MAX"), Some(1));
    // Vec::<u64>::new(): capacity 0, no block.
    let empty = local(&trace, "empty").points_to.unwrap();
    assert_eq!((empty.len, empty.capacity), (Some(0), Some(0)));
    assert_ne!(empty.address, 0);
}
