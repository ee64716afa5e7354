//! The enums AWS sends as strings, each declared once: its variants with their wire values,
//! from which `VALUES`, `parse`, `as_str`, `FromStr` and `Display` are derived.

/// Declares a wire enum. `$member` is the member name `FromStr` reports in its error; `parse`
/// takes the member a request actually used (`status`, `newStatus`, …).
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident (member $member:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`.")] $variant,)*
        }

        impl $name {
            /// Every value, as the wire spells it.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            /// Parses the wire value given as the request member `member`.
            ///
            /// # Errors
            /// [`RequestError::Enum`](crate::RequestError::Enum) naming `member`, for any other
            /// string (InvalidRequestException).
            pub fn parse(text: &str, member: &'static str) -> Result<Self, crate::Error> {
                match text {
                    $($wire => Ok(Self::$variant),)*
                    other => Err(crate::error::RequestError::Enum {
                        member,
                        value: other.chars().take(256).collect(),
                        allowed: Self::VALUES,
                    }
                    .into()),
                }
            }

            /// The wire value.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)*
                }
            }
        }

        impl core::str::FromStr for $name {
            type Err = crate::Error;

            #[doc = concat!("Parses the wire value, as the member `", $member, "`.")]
            fn from_str(text: &str) -> Result<Self, crate::Error> {
                Self::parse(text, $member)
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use wire_enum;
