//! Request validation: [`ValidationErrors`] lists every problem of a body at once.
//!
//! Every generated object has a `validate()` method; [`crate::Api::validate`] calls it. The
//! checks come from the API description: required-when conditions, at-least-one-of groups,
//! empty strings (never sent), maximum lengths, array element counts, positive amounts, ISO 4217
//! currencies (and a fixed currency where the API allows only one) and ISO 3166 region codes.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::{Amount, Currency, Secret, StrInt};

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A conditionally required field is absent; the text says when it is required.
    Missing {
        /// When the field is required.
        condition: &'static str,
    },
    /// None of these fields is present, but one of them is required.
    MissingOneOf(&'static [&'static str]),
    /// An empty string: Alipay+ may reject `""`; leave the field out instead.
    Empty,
    /// Longer than the documented maximum (in characters).
    TooLong {
        /// Maximum characters.
        max: usize,
        /// Characters given.
        actual: usize,
    },
    /// A number (or amount in minor units) below the minimum, e.g. a zero amount.
    BelowMinimum {
        /// The minimum.
        min: i64,
        /// The value given.
        actual: i128,
    },
    /// The currency is not an ISO 4217 code this crate knows.
    UnknownCurrency(Currency),
    /// Not an ISO 3166-1 alpha-2 region code (two capital letters).
    BadRegion,
    /// The API accepts only one currency here (e.g. `CNY` for customs declarations).
    WrongCurrency {
        /// The only currency allowed.
        expected: &'static str,
        /// The currency given.
        actual: Currency,
    },
    /// An array with fewer or more elements than documented.
    ItemCount {
        /// Fewest elements allowed.
        min: usize,
        /// Most elements allowed (`None`: no limit).
        max: Option<usize>,
        /// Elements given.
        actual: usize,
    },
    /// A number (or amount in minor units) above the maximum a product rule allows (e.g. an
    /// escalation refund above the escalation amount).
    AboveMaximum {
        /// The maximum.
        max: u64,
        /// The value given.
        actual: u64,
    },
    /// The currency must be the one of another amount (e.g. the disputed payment's).
    CurrencyMismatch {
        /// The currency required.
        expected: Currency,
        /// The currency given.
        actual: Currency,
    },
    /// A product rule the field breaks, said in words.
    Rule(&'static str),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { condition } => write!(f, "missing (required: {condition})"),
            Problem::MissingOneOf(names) => {
                write!(f, "one of ")?;
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(n)?;
                }
                write!(f, " is required")
            }
            Problem::Empty => f.write_str("empty string (omit the field instead)"),
            Problem::TooLong { max, actual } => {
                write!(f, "too long ({actual} characters, max {max})")
            }
            Problem::BelowMinimum { min, actual } => {
                write!(f, "{actual} is below the minimum {min}")
            }
            Problem::UnknownCurrency(c) => write!(f, "{c} is not an ISO 4217 currency"),
            Problem::BadRegion => {
                f.write_str("not an ISO 3166-1 alpha-2 region code (e.g. \"SG\")")
            }
            Problem::WrongCurrency { expected, actual } => {
                write!(f, "{actual} is not allowed here, only {expected}")
            }
            Problem::ItemCount { min, max, actual } => match max {
                Some(max) => write!(f, "{actual} elements, allowed {min} to {max}"),
                None => write!(f, "{actual} elements, at least {min} required"),
            },
            Problem::AboveMaximum { max, actual } => {
                write!(f, "{actual} is above the maximum {max}")
            }
            Problem::CurrencyMismatch { expected, actual } => {
                write!(f, "{actual} is not allowed here, only {expected}")
            }
            Problem::Rule(rule) => f.write_str(rule),
        }
    }
}

/// A problem and the JSON path of the field, e.g. `order.merchant.referenceMerchantId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the field (JSON names, `[i]` for array elements); empty for the body itself.
    pub path: String,
    /// What is wrong.
    pub problem: Problem,
    /// The rule broken is one the API description marks uncertain (`uncertain_rule`: the spec
    /// is UNCERTAIN about it). This crate still reports it (the careful reading), but a peer
    /// that must not fail a caller on a guess (the simulator) may accept the body.
    pub uncertain: bool,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.problem)?;
        if self.uncertain {
            f.write_str(" (uncertain rule)")?;
        }
        Ok(())
    }
}

/// Every problem found in a body (never empty when returned as an error).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(Vec<ValidationError>);

impl ValidationErrors {
    /// No problems yet.
    pub fn new() -> Self {
        ValidationErrors(Vec::new())
    }

    /// Records a problem at `path` (once: the same problem at the same path is not repeated).
    pub fn push(&mut self, path: &Path<'_>, problem: Problem) {
        let path = path.render();
        // Every problem once: a rule checked by two layers is reported once.
        if self
            .0
            .iter()
            .any(|e| e.path == path && e.problem == problem)
        {
            return;
        }
        self.0.push(ValidationError {
            path,
            problem,
            uncertain: false,
        });
    }

    /// Marks the problems recorded since there were `start` of them as breaking uncertain
    /// rules (generated code: the checks of a field with `uncertain_rule`).
    pub fn mark_uncertain_from(&mut self, start: usize) {
        for e in self.0.iter_mut().skip(start) {
            e.uncertain = true;
        }
    }

    /// Whether every problem breaks only an uncertain rule (see [`ValidationError::uncertain`]).
    /// A body with such problems only is what a tolerant peer may accept.
    ///
    /// ```
    /// use alipayplus_types::validate::Path;
    /// use alipayplus_types::{Problem, ValidationErrors};
    ///
    /// let mut errs = ValidationErrors::new();
    /// errs.push(&Path::ROOT.field("a"), Problem::Empty);
    /// assert!(!errs.only_uncertain());
    /// errs.mark_uncertain_from(0);
    /// assert!(errs.only_uncertain());
    /// ```
    pub fn only_uncertain(&self) -> bool {
        self.0.iter().all(|e| e.uncertain)
    }

    /// The problems, in field order.
    pub fn iter(&self) -> core::slice::Iter<'_, ValidationError> {
        self.0.iter()
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// No problems.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = core::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid request: ")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl core::error::Error for ValidationErrors {}

/// A JSON path built on the stack while validating; rendered only when a problem is found.
#[derive(Clone, Copy, Debug)]
pub struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Clone, Copy, Debug)]
enum Segment<'a> {
    Root,
    Field(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// The body itself.
    pub const ROOT: Path<'static> = Path {
        parent: None,
        segment: Segment::Root,
    };

    /// The child field `name` (JSON name).
    pub fn field(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Field(name),
        }
    }

    /// Element `i` of this array.
    pub fn index(&'a self, i: usize) -> Path<'a> {
        Path {
            parent: Some(self),
            segment: Segment::Index(i),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        if let Some(p) = self.parent {
            p.write(out);
        }
        match self.segment {
            Segment::Root => {}
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(i) => {
                use fmt::Write;
                let _ = write!(out, "[{i}]");
            }
        }
    }
}

/// Limits of one field, from the API description.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rules {
    /// Maximum characters of a string (or of each string of an array).
    pub max_len: Option<usize>,
    /// Minimum value of an integer, or of an amount's minor units.
    pub min: Option<i64>,
    /// The string must be an ISO 3166-1 alpha-2 region code.
    pub region: bool,
}

impl Rules {
    /// No limits.
    pub const NONE: Rules = Rules {
        max_len: None,
        min: None,
        region: false,
    };
}

/// A field value that can be checked against [`Rules`] (implemented by every field type).
pub trait Check {
    /// Pushes every problem of `self` at `path` to `errs`.
    fn check(&self, _path: &Path<'_>, _rules: &Rules, _errs: &mut ValidationErrors) {}
}

fn check_text(s: &str, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
    if s.is_empty() {
        errs.push(path, Problem::Empty);
        return;
    }
    if let Some(max) = rules.max_len {
        let actual = s.chars().count();
        if actual > max {
            errs.push(path, Problem::TooLong { max, actual });
        }
    }
    if rules.region && !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())) {
        errs.push(path, Problem::BadRegion);
    }
}

impl Check for String {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        check_text(self, path, rules, errs);
    }
}

impl Check for Secret {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        check_text(self.expose(), path, rules, errs);
    }
}

impl Check for Currency {
    fn check(&self, path: &Path<'_>, _rules: &Rules, errs: &mut ValidationErrors) {
        if !self.is_iso4217() {
            errs.push(path, Problem::UnknownCurrency(*self));
        }
    }
}

impl Check for Amount {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        self.currency.check(&path.field("currency"), rules, errs);
        let min = rules.min.unwrap_or(1);
        if i128::from(self.minor()) < i128::from(min) {
            errs.push(
                &path.field("value"),
                Problem::BelowMinimum {
                    min,
                    actual: i128::from(self.minor()),
                },
            );
        }
    }
}

impl Check for StrInt {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        if let Some(min) = rules.min.filter(|m| self.0 < *m) {
            errs.push(
                path,
                Problem::BelowMinimum {
                    min,
                    actual: i128::from(self.0),
                },
            );
        }
    }
}

impl Check for crate::StrBool {}
impl Check for crate::StrDecimal {}
impl Check for crate::DateTime {}
impl Check for serde_json::Value {}
impl<C> Check for crate::ApiResult<C> {}

impl<T: Check> Check for Option<T> {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        if let Some(v) = self {
            v.check(path, rules, errs);
        }
    }
}

impl<T: Check> Check for Vec<T> {
    fn check(&self, path: &Path<'_>, rules: &Rules, errs: &mut ValidationErrors) {
        for (i, v) in self.iter().enumerate() {
            v.check(&path.index(i), rules, errs);
        }
    }
}

/// The wire string of a scalar, for required-when conditions.
pub trait WireStr {
    /// `None` when absent.
    fn wire_str(&self) -> Option<&str>;
}

impl WireStr for String {
    fn wire_str(&self) -> Option<&str> {
        Some(self)
    }
}

impl WireStr for crate::StrBool {
    fn wire_str(&self) -> Option<&str> {
        Some(if self.0 { "true" } else { "false" })
    }
}

impl<T: WireStr> WireStr for Option<T> {
    fn wire_str(&self) -> Option<&str> {
        self.as_ref().and_then(WireStr::wire_str)
    }
}
