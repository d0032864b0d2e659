//! The own records of one cycle, keyed by transactionRequestId: an open-addressing table of
//! 32-byte slots that hold the record itself and, for ids of up to 15 bytes, the id too
//! (longer ids live in one byte arena). A lookup of such an id reads one slot, mostly one
//! cache line: the report is matched against a ledger in another order, so each lookup is a
//! random access and its cache misses are most of its cost. Growing re-places slots by their
//! stored 32-bit tags without reading an id again. One allocation per growth, none per id.
//!
//! The hash is FxHash's word-at-a-time multiply-rotate (as in rustc), written out here: ids
//! come from the merchant's own ledger and Alipay+'s reports, so a general-purpose keyed
//! hasher's flooding resistance buys nothing worth its cost (a hostile report can only make
//! its own comparison slower).

use alloc::vec::Vec;

use alipayplus_types::{Amount, Currency};

const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
/// Longest id kept in its slot.
const INLINE: usize = 15;
/// `len` of a slot whose id is in the arena.
const LONG: u8 = u8::MAX;
const REFUND: u8 = 1;
const SEEN: u8 = 2;

/// FxHash of `bytes`, eight at a time, finished with the length and one more multiply.
pub(crate) fn fx(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K)
}

/// One own record (a slot; `tag == 0`: empty).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnRec {
    tag: u32,
    /// Inline id length, or [`LONG`].
    len: u8,
    flags: u8,
    /// The currency of the amount.
    pub(crate) currency: Currency,
    /// The id (inline), or its arena offset and length (little-endian `u32`s).
    id: [u8; INLINE],
    /// The amount (positive even for refunds).
    pub(crate) minor: u64,
}

impl OwnRec {
    const EMPTY: OwnRec = OwnRec {
        tag: 0,
        len: 0,
        flags: 0,
        currency: Currency::SGD,
        id: [0; INLINE],
        minor: 0,
    };

    pub(crate) fn amount(&self) -> Amount {
        Amount::new(self.currency, self.minor)
    }

    /// REFUND (else PAYMENT: the ledger parser accepts no other type).
    pub(crate) fn refund(&self) -> bool {
        self.flags & REFUND != 0
    }

    /// A report row named it.
    pub(crate) fn seen(&self) -> bool {
        self.flags & SEEN != 0
    }

    fn arena_span(&self) -> (usize, usize) {
        let word = |i: usize| {
            u32::from_le_bytes([self.id[i], self.id[i + 1], self.id[i + 2], self.id[i + 3]])
                as usize
        };
        (word(0), word(4))
    }
}

/// An id as a slot holds it: inline (zero-padded) or in the arena.
enum Key {
    Inline(u8, [u8; INLINE]),
    Long,
}

impl Key {
    fn of(id: &[u8]) -> Key {
        if id.len() > INLINE {
            return Key::Long;
        }
        let mut bytes = [0; INLINE];
        bytes[..id.len()].copy_from_slice(id);
        Key::Inline(id.len() as u8, bytes)
    }
}

/// One shard of the table: own records by id.
#[derive(Default)]
pub(crate) struct Shard {
    /// Ids longer than [`INLINE`].
    ids: Vec<u8>,
    slots: Vec<OwnRec>,
    len: usize,
}

/// The table is full: more than `u32::MAX` bytes of ids in a shard, or more slots than an
/// index can name.
#[derive(Debug)]
pub(crate) struct TableFull;

impl Shard {
    fn id_bytes<'a>(&'a self, rec: &'a OwnRec) -> &'a [u8] {
        if rec.len == LONG {
            let (off, len) = rec.arena_span();
            &self.ids[off..off + len]
        } else {
            &rec.id[..usize::from(rec.len)]
        }
    }

    /// The first slot for a tag: Fibonacci hashing of the tag alone, so growing re-places
    /// slots without reading the ids again.
    fn slot_of(&self, tag: u32) -> usize {
        let bits = self.slots.len().trailing_zeros();
        (u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
    }

    /// The slot of `id` (its `tag`).
    fn get(&self, id: &[u8], tag: u32) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(tag);
        let key = Key::of(id);
        loop {
            let rec = &self.slots[i];
            if rec.tag == 0 {
                return None;
            }
            if rec.tag == tag && self.is(rec, id, &key) {
                return Some(i as u32);
            }
            i = (i + 1) & mask;
        }
    }

    /// See [`OwnTable::touch`].
    pub(crate) fn touch(&self, tag: u32) -> u32 {
        if self.slots.is_empty() {
            return 0;
        }
        self.slots[self.slot_of(tag)].tag
    }

    /// Whether `rec` holds `id` (an inline id compared as one fixed-size array).
    fn is(&self, rec: &OwnRec, id: &[u8], key: &Key) -> bool {
        match key {
            Key::Inline(len, bytes) => rec.len == *len && rec.id == *bytes,
            Key::Long => rec.len == LONG && self.id_bytes(rec) == id,
        }
    }

    /// Adds a record (slots of earlier records may move); `Ok(false)` when the id is
    /// already there (nothing added). One probe.
    pub(crate) fn insert(
        &mut self,
        id: &str,
        tag: u32,
        mut rec: OwnRec,
    ) -> Result<bool, TableFull> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow()?;
        }
        let bytes = id.as_bytes();
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(tag);
        let key = Key::of(bytes);
        loop {
            let other = &self.slots[i];
            if other.tag == 0 {
                break;
            }
            if other.tag == tag && self.is(other, bytes, &key) {
                return Ok(false);
            }
            i = (i + 1) & mask;
        }
        rec.tag = tag;
        if bytes.len() <= INLINE {
            rec.len = bytes.len() as u8;
            rec.id[..bytes.len()].copy_from_slice(bytes);
        } else {
            let off = u32::try_from(self.ids.len()).map_err(|_| TableFull)?;
            let len = u32::try_from(bytes.len()).map_err(|_| TableFull)?;
            off.checked_add(len).ok_or(TableFull)?;
            rec.len = LONG;
            rec.id[..4].copy_from_slice(&off.to_le_bytes());
            rec.id[4..8].copy_from_slice(&len.to_le_bytes());
            self.ids.extend_from_slice(bytes);
        }
        self.slots[i] = rec;
        self.len += 1;
        Ok(true)
    }

    fn grow(&mut self) -> Result<(), TableFull> {
        let size = (self.slots.len() * 2).max(64);
        if size > 1 << SLOT_BITS {
            return Err(TableFull);
        }
        let old = core::mem::replace(&mut self.slots, alloc::vec![OwnRec::EMPTY; size]);
        let mask = size - 1;
        for rec in old.into_iter().filter(|r| r.tag != 0) {
            let mut i = self.slot_of(rec.tag);
            while self.slots[i].tag != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = rec;
        }
        Ok(())
    }
}

/// Shards: the top bits of an id's tag pick one. Each grows on its own (a small copy, not the
/// whole table), and the job's ledger workers insert into different shards at once.
const SHARD_BITS: u32 = 6;
/// Shards per table.
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;
/// Bits of a slot within its shard in an index (`shard << SLOT_BITS | slot`).
const SLOT_BITS: u32 = 32 - SHARD_BITS;

/// Own records by id, in [`Shard`]s.
pub(crate) struct OwnTable {
    shards: Vec<Shard>,
}

impl Default for OwnTable {
    fn default() -> Self {
        OwnTable {
            shards: (0..1 << SHARD_BITS).map(|_| Shard::default()).collect(),
        }
    }
}

impl OwnTable {
    /// The shard and tag of an id.
    pub(crate) fn locate(id: &str) -> (usize, u32) {
        // The tag is the hash's best-mixed high half, never 0 (0 marks an empty slot).
        let tag = ((fx(id.as_bytes()) >> 32) as u32).max(1);
        ((tag >> SLOT_BITS) as usize, tag)
    }

    fn split(i: u32) -> (usize, usize) {
        (
            (i >> SLOT_BITS) as usize,
            (i & ((1 << SLOT_BITS) - 1)) as usize,
        )
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.len).sum()
    }

    /// The shards, for inserting into several at once ([`Shard::insert`] with
    /// [`locate`](Self::locate)).
    pub(crate) fn shards_mut(&mut self) -> &mut [Shard] {
        &mut self.shards
    }

    /// Slots per shard: index `shard << SLOT_BITS | slot` has `slot` below its shard's.
    pub(crate) fn shard_sizes(&self) -> Vec<usize> {
        self.shards.iter().map(|s| s.slots.len()).collect()
    }

    /// `(shard, slot)` of an index.
    pub(crate) fn position(i: u32) -> (usize, usize) {
        Self::split(i)
    }

    /// The index of `(shard, slot)`.
    pub(crate) fn index(shard: usize, slot: usize) -> u32 {
        ((shard as u32) << SLOT_BITS) | slot as u32
    }

    pub(crate) fn rec(&self, i: u32) -> &OwnRec {
        let (s, slot) = Self::split(i);
        &self.shards[s].slots[slot]
    }

    pub(crate) fn set_seen(&mut self, i: u32) {
        let (s, slot) = Self::split(i);
        self.shards[s].slots[slot].flags |= SEEN;
    }

    pub(crate) fn id(&self, i: u32) -> &str {
        let (s, slot) = Self::split(i);
        let shard = &self.shards[s];
        // Ids are copied from `&str`s whole, so they are UTF-8.
        core::str::from_utf8(shard.id_bytes(&shard.slots[slot])).unwrap_or_default()
    }

    /// The records, with their indices.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &OwnRec)> {
        self.shards.iter().enumerate().flat_map(|(s, shard)| {
            shard
                .slots
                .iter()
                .enumerate()
                .filter(|(_, r)| r.tag != 0)
                .map(move |(i, r)| (((s as u32) << SLOT_BITS) | i as u32, r))
        })
    }

    /// The record with `id`.
    pub(crate) fn get(&self, id: &str) -> Option<u32> {
        self.get_at(id, Self::locate(id))
    }

    /// The record with `id`, [`locate`](Self::locate)d.
    pub(crate) fn get_at(&self, id: &str, (s, tag): (usize, u32)) -> Option<u32> {
        let slot = self.shards[s].get(id.as_bytes(), tag)?;
        Some(((s as u32) << SLOT_BITS) | slot)
    }

    /// Reads the first slot a lookup of a located id will read, so a batch of lookups
    /// waits for its cache misses together (independent loads overlap) rather than one
    /// after another. The value means nothing; feed it to `core::hint::black_box`.
    pub(crate) fn touch(&self, (s, tag): (usize, u32)) -> u32 {
        self.shards[s].touch(tag)
    }

    /// Adds a record; `Ok(false)` when the id is already there (nothing added).
    pub(crate) fn insert(&mut self, id: &str, rec: OwnRec) -> Result<bool, TableFull> {
        let (s, tag) = Self::locate(id);
        self.shards[s].insert(id, tag, rec)
    }

    /// A record for [`insert`](Self::insert).
    pub(crate) fn record(amount: Amount, refund: bool) -> OwnRec {
        OwnRec {
            flags: if refund { REFUND } else { 0 },
            currency: amount.currency,
            minor: amount.minor(),
            ..OwnRec::EMPTY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_get_grow_and_duplicates() {
        let mut t = OwnTable::default();
        let amount = Amount::new(Currency::SGD, 1);
        // Short (inline) and long (arena) ids.
        let id = |i: u32| {
            if i.is_multiple_of(3) {
                alloc::format!("PAY{i:012}")
            } else {
                alloc::format!("REFUND-REQUEST-{i:020}")
            }
        };
        for i in 0..5000u32 {
            assert!(
                t.insert(&id(i), OwnTable::record(amount, i.is_multiple_of(2)))
                    .unwrap()
            );
        }
        assert!(!t.insert(&id(7), OwnTable::record(amount, false)).unwrap());
        assert!(!t.insert(&id(9), OwnTable::record(amount, false)).unwrap());
        assert_eq!(t.len(), 5000);
        assert!(t.shard_sizes().iter().filter(|&&n| n > 0).count() > 32);
        assert_eq!(t.iter().count(), 5000);
        for i in 0..5000u32 {
            let index = t.get(&id(i)).unwrap();
            assert_eq!(t.id(index), id(i));
            assert_eq!(t.rec(index).refund(), i.is_multiple_of(2));
            assert!(!t.rec(index).seen());
        }
        let index = t.get(&id(42)).unwrap();
        t.set_seen(index);
        assert!(t.rec(index).seen() && t.rec(index).refund());
        assert_eq!(t.get("PAY"), None);
        assert_eq!(t.get(""), None);
        assert_ne!(fx(b"a"), fx(b"a\0"));
        assert_eq!(core::mem::size_of::<OwnRec>(), 32);
    }
}
