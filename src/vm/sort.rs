//! `sort(xs, cmp)` as a state machine the bytecode drives.
//!
//! The comparator is an Atlas function, and the VM never re-enters itself to call one:
//! the compiler emits `sort_begin xs`, then a loop in which `sort_step` hands out the next
//! pair to compare, the loop calls `cmp` on it like any call, and the next `sort_step`
//! takes the answer. The sort is a bottom-up merge sort (stable, n log n comparisons),
//! on a copy of the elements, so the comparator sees `xs` as it was, and the result is
//! written back once at the end. Before each merge of two runs it compares the last of
//! the left run with the first of the right one, so a run pair already in order costs
//! one comparison (sorted input: about n comparisons in all).
//!
//! Sorts nest (a comparator may sort), so the VM keeps a stack of them; the innermost is
//! the one `sort_step` drives.

use std::mem::{size_of, take};
use std::rc::Rc;

use super::heap;
use super::value::{Array, Value};

/// A sort in progress.
#[derive(Debug)]
pub struct MergeSort {
    /// The array being sorted, and its edit count when the sort began.
    array: Rc<Array>,
    edits: u32,
    /// The runs of the current pass, and where they are merged into.
    src: Vec<Value>,
    dst: Vec<Value>,
    /// The length of the runs of this pass.
    width: usize,
    /// The run pair being merged: `src[lo..mid]` and `src[mid..hi]`, with the next
    /// unmerged element of each at `left` and `right`.
    lo: usize,
    mid: usize,
    hi: usize,
    left: usize,
    right: usize,
    /// What the pending comparison decides.
    asked: Asked,
    /// Bytes charged to the heap account.
    charged: usize,
}

/// The question the last pair handed out answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// Nothing yet (the first step).
    Nothing,
    /// `cmp(src[mid - 1], src[mid])`: whether the run pair is already in order.
    InOrder,
    /// `cmp(src[left], src[right])`: which one is merged next.
    Next,
}

/// What `sort_step` does next.
pub enum Step {
    /// Call the comparator on these two elements, then step again with its answer.
    Compare(Value, Value),
    /// The sorted elements are back in the array.
    Done,
    /// The comparator changed the array.
    Changed,
}

/// The message when a comparator changes the array it sorts.
pub const CHANGED: &str = "array changed during sort";

impl MergeSort {
    /// Bytes a sort of `n` elements holds in the heap account: its two buffers.
    pub fn footprint(n: usize) -> usize {
        2 * n * size_of::<Value>()
    }

    /// A sort of `array`'s elements (charged to the heap account until it ends).
    pub fn new(array: Rc<Array>) -> MergeSort {
        let src = array.borrow().clone();
        let n = src.len();
        let charged = MergeSort::footprint(n);
        heap::acquire(charged);
        let edits = array.edits();
        let mut sort = MergeSort {
            array,
            edits,
            dst: Vec::with_capacity(n),
            src,
            width: 1,
            lo: 0,
            mid: 0,
            hi: 0,
            left: 0,
            right: 0,
            asked: Asked::Nothing,
            charged,
        };
        sort.start_pair(0);
        sort
    }

    /// Takes the comparator's answer to the last pair (if any) and says what is next.
    pub fn step(&mut self, answer: f64) -> Step {
        if self.asked != Asked::Nothing && self.array.edits() != self.edits {
            return Step::Changed;
        }
        // `cmp(a, b) > 0` puts `b` first; anything else (NaN included) keeps the order.
        let b_first = answer > 0.0;
        match self.asked {
            Asked::Nothing => {}
            Asked::InOrder if b_first => {}
            Asked::InOrder => {
                self.copy_rest();
                self.start_pair(self.hi);
            }
            Asked::Next => {
                let from = if b_first {
                    &mut self.right
                } else {
                    &mut self.left
                };
                self.dst.push(take(&mut self.src[*from]));
                *from += 1;
            }
        }
        loop {
            if self.width >= self.src.len() {
                self.finish();
                return Step::Done;
            }
            if self.lo >= self.src.len() {
                // The pass is over: its output holds runs twice as long.
                std::mem::swap(&mut self.src, &mut self.dst);
                self.dst.clear();
                self.width *= 2;
                self.start_pair(0);
                continue;
            }
            if self.asked == Asked::Nothing && self.mid < self.hi {
                self.asked = Asked::InOrder;
                return self.ask(self.mid - 1, self.mid);
            }
            if self.left < self.mid && self.right < self.hi {
                self.asked = Asked::Next;
                return self.ask(self.left, self.right);
            }
            self.copy_rest();
            self.start_pair(self.hi);
        }
    }

    fn ask(&self, a: usize, b: usize) -> Step {
        Step::Compare(self.src[a].clone(), self.src[b].clone())
    }

    /// Starts merging the run pair that begins at `lo`.
    fn start_pair(&mut self, lo: usize) {
        let n = self.src.len();
        self.lo = lo;
        self.mid = (lo + self.width).min(n);
        self.hi = (lo + 2 * self.width).min(n);
        self.left = lo;
        self.right = self.mid;
        self.asked = Asked::Nothing;
    }

    /// Moves what is left of both runs of the current pair to the output, in order.
    fn copy_rest(&mut self) {
        let (left, right) = (self.left..self.mid, self.right..self.hi);
        for i in left.chain(right) {
            self.dst.push(take(&mut self.src[i]));
        }
        self.left = self.mid;
        self.right = self.hi;
    }

    /// Writes the sorted elements back into the array, in place: the array holds the
    /// same elements (it is unchanged), so the ones replaced only lose a reference, and
    /// no destructor can reach the array while it is borrowed (the sort holds it).
    fn finish(&mut self) {
        let sorted = take(&mut self.src);
        for (slot, item) in self.array.elements_mut().iter_mut().zip(sorted) {
            *slot = item;
        }
    }
}

impl Drop for MergeSort {
    fn drop(&mut self) {
        heap::release(self.charged);
    }
}
