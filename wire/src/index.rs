//! The Griaule biometric index table (<https://gitbook.griaule.com/gbs/en/integration>).
//!
//! One enum for every place a position code appears (capture, queue, wire, server, UI), so an
//! invalid index cannot travel past deserialisation.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! biometric_indices {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $label:literal; )*) => {
        /// A biometric position code. Serialises as the bare integer the APIs use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u16)]
        pub enum BiometricIndex {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl BiometricIndex {
            /// Every index in the table, in code order.
            pub const ALL: &'static [BiometricIndex] = &[$(BiometricIndex::$variant,)*];

            /// The integer code used on the wire.
            pub fn code(self) -> u16 {
                self as u16
            }

            /// Looks a code up in the table; `None` for codes the table does not define.
            pub fn from_code(code: i64) -> Option<Self> {
                match code {
                    $( $code => Some(BiometricIndex::$variant), )*
                    _ => None,
                }
            }

            /// Operator-facing name of the position ("right index finger").
            pub fn label(self) -> &'static str {
                match self {
                    $( BiometricIndex::$variant => $label, )*
                }
            }
        }
    };
}

biometric_indices! {
    LeftLittle = 0, "left little finger";
    LeftRing = 1, "left ring finger";
    LeftMiddle = 2, "left middle finger";
    LeftIndex = 3, "left index finger";
    LeftThumb = 4, "left thumb";
    RightThumb = 5, "right thumb";
    RightIndex = 6, "right index finger";
    RightMiddle = 7, "right middle finger";
    RightRing = 8, "right ring finger";
    RightLittle = 9, "right little finger";
    Face = 10, "face";
    LeftIris = 13, "left iris";
    RightIris = 14, "right iris";
    Signature = 20, "signature";
    PalmLeftInterdigital = 31, "left palm, interdigital";
    PalmLeftThenar = 32, "left palm, thenar";
    PalmLeftHypothenar = 33, "left palm, hypothenar";
    PalmRightInterdigital = 34, "right palm, interdigital";
    PalmRightThenar = 35, "right palm, thenar";
    PalmRightHypothenar = 36, "right palm, hypothenar";
    FullLeftPalm = 40, "full left palm";
    PalmLeftWriter = 41, "left palm, writer's";
    FullRightPalm = 45, "full right palm";
    PalmRightWriter = 46, "right palm, writer's";
    NewbornLeftPalm = 200, "newborn left palm";
    NewbornRightPalm = 210, "newborn right palm";
    SequenceLeftLittle = 900, "sequence control, left little";
    SequenceLeftRing = 901, "sequence control, left ring";
    SequenceLeftMiddle = 902, "sequence control, left middle";
    SequenceLeftIndex = 903, "sequence control, left index";
    SequenceLeftThumb = 904, "sequence control, left thumb";
    SequenceRightThumb = 905, "sequence control, right thumb";
    SequenceRightIndex = 906, "sequence control, right index";
    SequenceRightMiddle = 907, "sequence control, right middle";
    SequenceRightRing = 908, "sequence control, right ring";
    SequenceRightLittle = 909, "sequence control, right little";
    SlapLeftFour = 940, "left four-finger slap";
    SlapRightFour = 941, "right four-finger slap";
    SlapTwoThumbs = 942, "two-thumb slap";
}

impl BiometricIndex {
    /// The ten fingers in table order (left little → right little).
    pub const FINGERS: [BiometricIndex; 10] = [
        BiometricIndex::LeftLittle,
        BiometricIndex::LeftRing,
        BiometricIndex::LeftMiddle,
        BiometricIndex::LeftIndex,
        BiometricIndex::LeftThumb,
        BiometricIndex::RightThumb,
        BiometricIndex::RightIndex,
        BiometricIndex::RightMiddle,
        BiometricIndex::RightRing,
        BiometricIndex::RightLittle,
    ];

    /// True for single fingers (0–9), the positions a fingerprint matcher compares.
    pub fn is_finger(self) -> bool {
        self.code() <= 9
    }

    /// True for the face (10).
    pub fn is_face(self) -> bool {
        self == BiometricIndex::Face
    }

    /// True for the multi-finger slap positions (940–942).
    pub fn is_slap(self) -> bool {
        (940..=942).contains(&self.code())
    }
}

impl std::fmt::Display for BiometricIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code(), self.label())
    }
}

/// Error for an integer that is not in the index table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not a valid biometric index")]
pub struct UnknownIndex(pub i64);

impl TryFrom<i64> for BiometricIndex {
    type Error = UnknownIndex;
    fn try_from(code: i64) -> Result<Self, Self::Error> {
        BiometricIndex::from_code(code).ok_or(UnknownIndex(code))
    }
}

impl Serialize for BiometricIndex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.code())
    }
}

impl<'de> Deserialize<'de> for BiometricIndex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = i64::deserialize(d)?;
        BiometricIndex::try_from(code).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for BiometricIndex {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let codes: Vec<serde_json::Value> = Self::ALL.iter().map(|i| i.code().into()).collect();
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some(codes))
            .description(Some(
                "Griaule biometric index: 0-9 fingers (left little to right little), 10 face, \
                 13/14 iris, 20 signature, 31-46 palms, 200/210 newborn palms, 900-909 and 940-942 \
                 sequence control",
            ))
            .into()
    }
}

impl utoipa::ToSchema for BiometricIndex {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_nothing_else_parses() {
        for &index in BiometricIndex::ALL {
            let json = serde_json::to_string(&index).unwrap();
            assert_eq!(serde_json::from_str::<BiometricIndex>(&json).unwrap(), index);
        }
        let defined: Vec<i64> = BiometricIndex::ALL.iter().map(|i| i.code() as i64).collect();
        for code in -5..1000 {
            assert_eq!(BiometricIndex::from_code(code).is_some(), defined.contains(&code), "code {code}");
        }
    }

    #[test]
    fn table_positions_match_griaule() {
        assert_eq!(BiometricIndex::from_code(0), Some(BiometricIndex::LeftLittle));
        assert_eq!(BiometricIndex::from_code(4), Some(BiometricIndex::LeftThumb));
        assert_eq!(BiometricIndex::from_code(5), Some(BiometricIndex::RightThumb));
        assert_eq!(BiometricIndex::from_code(9), Some(BiometricIndex::RightLittle));
        assert!(BiometricIndex::FINGERS.iter().all(|f| f.is_finger()));
        assert!(!BiometricIndex::Face.is_finger());
        assert!(BiometricIndex::SlapTwoThumbs.is_slap());
        assert!(serde_json::from_str::<BiometricIndex>("11").is_err());
    }
}
