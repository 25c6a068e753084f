//! Values a probe can follow to the memory they point to: [`Pointer`], for
//! `s.pointer` and `s.keep`.

use std::collections::{BinaryHeap, VecDeque};
use std::fmt::{Debug, Write as _};

use crate::trace::Preview;

/// Where a pointer-holding value points, as a probe reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointee {
    /// The first byte it points to.
    pub address: usize,
    /// Elements (bytes for a `String`), when the type has a length.
    pub len: Option<usize>,
    /// Elements the block has room for, when the type has a capacity; 0
    /// means there is no block (the pointer dangles on purpose).
    pub capacity: Option<usize>,
}

impl Pointee {
    pub fn new(address: usize, len: Option<usize>, capacity: Option<usize>) -> Pointee {
        Pointee {
            address,
            len,
            capacity,
        }
    }

    fn of<T: ?Sized>(value: *const T) -> Pointee {
        Pointee::new(value.cast::<u8>() as usize, None, None)
    }
}

/// Values that point to memory: `Box`, `Vec`, `VecDeque`, `BinaryHeap`,
/// `String`, `CString`, `&str`, slices, `Rc`, `Arc`.
pub trait Pointer {
    fn target(&self) -> Pointee;

    /// Writes the start of the memory pointed to, for diagrams. Writing past
    /// the preview's room stops the formatting, so this never allocates.
    fn preview(&self, _out: &mut Preview) {}
}

impl<T: ?Sized + Debug> Pointer for Box<T> {
    fn target(&self) -> Pointee {
        Pointee::of(&**self as *const T)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(&**self);
    }
}

impl<T: Debug> Pointer for Vec<T> {
    fn target(&self) -> Pointee {
        Pointee::new(
            self.as_ptr() as usize,
            Some(self.len()),
            Some(self.capacity()),
        )
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_slice());
    }
}

/// A `VecDeque` is a ring buffer in one block. It shows no pointer to the
/// block's start, but its elements are in the block: the lower of its two
/// slices' addresses is at or after the start, inside the block.
impl<T: Debug> Pointer for VecDeque<T> {
    fn target(&self) -> Pointee {
        let (front, back) = self.as_slices();
        let address = match (front.is_empty(), back.is_empty()) {
            (false, false) => (front.as_ptr() as usize).min(back.as_ptr() as usize),
            (true, false) => back.as_ptr() as usize,
            _ => front.as_ptr() as usize,
        };
        Pointee::new(address, Some(self.len()), Some(self.capacity()))
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self);
    }
}

/// A `BinaryHeap` keeps its elements in a `Vec`, in heap order.
impl<T: Debug> Pointer for BinaryHeap<T> {
    fn target(&self) -> Pointee {
        let elements = self.as_slice();
        Pointee::new(
            elements.as_ptr() as usize,
            Some(elements.len()),
            Some(self.capacity()),
        )
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_slice());
    }
}

impl Pointer for String {
    fn target(&self) -> Pointee {
        Pointee::new(
            self.as_ptr() as usize,
            Some(self.len()),
            Some(self.capacity()),
        )
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_str());
    }
}

/// A `CString` owns its bytes and the terminating nul in one block; its
/// length here counts the bytes without the nul, as `as_bytes` does.
impl Pointer for std::ffi::CString {
    fn target(&self) -> Pointee {
        Pointee::new(self.as_ptr() as usize, Some(self.as_bytes().len()), None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(self.as_c_str());
    }
}

impl Pointer for &str {
    fn target(&self) -> Pointee {
        Pointee::new(self.as_ptr() as usize, Some(self.len()), None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(*self);
    }
}

impl<T: Debug> Pointer for &[T] {
    fn target(&self) -> Pointee {
        Pointee::new(self.as_ptr() as usize, Some(self.len()), None)
    }

    fn preview(&self, out: &mut Preview) {
        *out = Preview::debug(*self);
    }
}

/// An `Rc` points at its value, inside the block that also holds its counts.
impl<T: ?Sized> Pointer for std::rc::Rc<T> {
    fn target(&self) -> Pointee {
        Pointee::of(std::rc::Rc::as_ptr(self))
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
    fn target(&self) -> Pointee {
        Pointee::of(std::sync::Arc::as_ptr(self))
    }

    /// Its counts as `strong_count` and `weak_count` report them (the block
    /// stores them beside the value, the weak one plus 1 while any strong lives).
    fn preview(&self, out: &mut Preview) {
        let strong = std::sync::Arc::strong_count(self);
        let weak = std::sync::Arc::weak_count(self);
        let _ = write!(out, "strong_count {strong}, weak_count {weak}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_deque_points_into_its_block_at_the_lower_slice() {
        let mut deque: VecDeque<u32> = VecDeque::with_capacity(4);
        deque.extend([1, 2, 3, 4]);
        deque.pop_front();
        deque.push_back(5); // wraps: [2, 3, 4] at the end, [5] at the start
        let (front, back) = deque.as_slices();
        assert!(!front.is_empty() && !back.is_empty(), "{front:?} {back:?}");
        let target = deque.target();
        assert_eq!(target.address, back.as_ptr() as usize);
        assert_eq!(
            (target.len, target.capacity),
            (Some(4), Some(deque.capacity()))
        );
        let mut preview = Preview::default();
        deque.preview(&mut preview);
        assert_eq!(preview.text(), "[2, 3, 4, 5]");
    }
}
