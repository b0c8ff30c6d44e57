//! `xsi:nil`-aware values.

/// The value of an element declared `nillable="true"`.
///
/// XML Schema distinguishes an element that is absent from one that is present
/// with `xsi:nil="true"`. Generated types keep the two apart: an optional
/// nillable element is an `Option<Nillable<T>>`, where `None` means "absent"
/// and `Some(Nillable::Nil)` means "present and nil".
///
/// ```
/// use payamak::Nillable;
///
/// let flag: Nillable<bool> = true.into();
/// assert_eq!(flag.as_option(), Some(&true));
/// assert!(Nillable::<bool>::Nil.is_nil());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Nillable<T> {
    /// Present with `xsi:nil="true"`.
    #[default]
    Nil,
    /// Present with a value.
    Value(T),
}

impl<T> Nillable<T> {
    /// True for [`Nillable::Nil`].
    pub fn is_nil(&self) -> bool {
        matches!(self, Nillable::Nil)
    }

    /// The value, if not nil.
    pub fn as_option(&self) -> Option<&T> {
        match self {
            Nillable::Nil => None,
            Nillable::Value(value) => Some(value),
        }
    }

    /// The value, if not nil.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nillable::Nil => None,
            Nillable::Value(value) => Some(value),
        }
    }
}

impl<T> From<T> for Nillable<T> {
    fn from(value: T) -> Self {
        Nillable::Value(value)
    }
}

impl<T> From<Option<T>> for Nillable<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Nillable::Nil, Nillable::Value)
    }
}

impl<T> From<Nillable<T>> for Option<T> {
    fn from(value: Nillable<T>) -> Self {
        value.into_option()
    }
}
