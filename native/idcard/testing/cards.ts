/**
 * Made-up cards for tests: numbers with correct check digits, names and addresses of no one.
 * Dates put them in force from 2020 to 2040 unless a test says otherwise.
 */
import type {
  ForeignPermanentCardFields,
  ResidencePermitFields,
  ResidentCardFields,
} from '../id-record.js';

/** A resident card, using HARDWARE.md's example number 11010519491231002X. */
export const residentCard: ResidentCardFields = {
  kind: 'resident',
  name: '李秀英',
  sex: 'female',
  ethnicityCode: '01',
  birthDate: '1949-12-31',
  address: '北京市东城区示例街道1号',
  idNumber: '11010519491231002X',
  issuingAuthority: '北京市公安局东城分局',
  validFrom: '2020-01-01',
  validTo: '2040-01-01',
};

/** A residence permit for a Hong Kong resident (type J). */
export const residencePermit: ResidencePermitFields = {
  kind: 'residence_permit',
  name: '陈大文',
  sex: 'male',
  birthDate: '1990-01-01',
  address: '',
  idNumber: '810000199001010019',
  issuingAuthority: '深圳市公安局',
  validFrom: '2020-01-01',
  validTo: '2030-01-01',
  passNumber: 'H12345678',
  issueCount: '01',
};

/** A foreign permanent resident card, 2017 layout (type I). */
export const foreignCard: ForeignPermanentCardFields = {
  kind: 'foreign_permanent',
  englishName: 'SMITH, JOHN ALEXANDER',
  chineseName: '史密斯',
  sex: 'male',
  idNumber: 'USA110085010101',
  nationality: 'USA',
  birthDate: '1985-01-01',
  validFrom: '2020-01-01',
  validTo: '2030-01-01',
  cardVersion: '02',
  authorityCode: '1500',
};

/** 2025-06-01 noon in Beijing, inside every card's validity. */
export const clockInForce = { now: () => Date.UTC(2025, 5, 1, 4) };
