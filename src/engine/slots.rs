//! A worker's relays, addressed by the token its epoll events carry.
//!
//! A token is (generation << 32) | (index << 2) | tag: the slot index, a
//! generation bumped whenever the slot is freed, and which fd of the relay
//! the event is about. An event can outlive its relay by a few
//! microseconds (the relay ended earlier in the same epoll_wait batch, or a
//! timer entry is stale): the generation makes such a token miss instead of
//! reaching whatever relay took the slot next.

/// Tag of an event about a relay's a_fd.
pub(crate) const TAG_A: u64 = 0;
/// Tag of an event about a relay's b_fd.
pub(crate) const TAG_B: u64 = 1;
/// Tag of an event about a relay's cancel fd.
pub(crate) const TAG_CANCEL: u64 = 2;
/// Tag of the worker's waker (no slot).
pub(crate) const TAG_WAKE: u64 = 3;

/// An epoll token (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token(pub u64);

impl Token {
    /// The fd tag.
    pub fn tag(self) -> u64 {
        self.0 & 3
    }

    /// The same slot with tag 0.
    pub fn slot(self) -> Token {
        Token(self.0 & !3)
    }

    /// The same slot with `tag`.
    pub fn with_tag(self, tag: u64) -> Token {
        Token((self.0 & !3) | tag)
    }

    fn index(self) -> usize {
        ((self.0 & 0xffff_ffff) >> 2) as usize
    }

    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    fn new(index: usize, generation: u32) -> Token {
        Token(((generation as u64) << 32) | ((index as u64) << 2))
    }
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A slab of values with generation-checked tokens.
#[derive(Debug)]
pub struct Slots<T> {
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    /// Stores `value` and returns its token (tag 0). Panics past 2^30
    /// slots (a billion relays in one thread).
    pub fn insert(&mut self, value: T) -> Token {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                assert!(self.slots.len() < 1 << 30, "too many relays in one thread");
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.value = Some(value);
        Token::new(index, slot.generation)
    }

    /// The value of a token whose slot still holds it (any tag).
    pub fn get(&self, t: Token) -> Option<&T> {
        let slot = self.slots.get(t.index())?;
        if slot.generation != t.generation() {
            return None;
        }
        slot.value.as_ref()
    }

    /// The value of a token, mutably.
    pub fn get_mut(&mut self, t: Token) -> Option<&mut T> {
        let slot = self.slots.get_mut(t.index())?;
        if slot.generation != t.generation() {
            return None;
        }
        slot.value.as_mut()
    }

    /// Takes the value out; its tokens miss from now on.
    pub fn remove(&mut self, t: Token) -> Option<T> {
        let slot = self.slots.get_mut(t.index())?;
        if slot.generation != t.generation() {
            return None;
        }
        let v = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(t.index());
        Some(v)
    }

    /// Tokens of every stored value.
    pub fn tokens(&self) -> Vec<Token> {
        (self.slots.iter().enumerate())
            .filter(|(_, s)| s.value.is_some())
            .map(|(i, s)| Token::new(i, s.generation))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_slot_does_not_answer_old_tokens() {
        let mut s = Slots::default();
        let a = s.insert("a");
        assert_eq!(s.get(a.with_tag(TAG_CANCEL)), Some(&"a"));
        assert_eq!(s.remove(a), Some("a"));
        let b = s.insert("b");
        assert_ne!(a, b);
        assert_eq!(s.get(a), None);
        assert_eq!(s.remove(a), None);
        assert_eq!(s.get(b.with_tag(TAG_B)), Some(&"b"));
        assert_eq!(s.tokens(), vec![b]);
    }
}
