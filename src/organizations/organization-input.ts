// An organization's details as the organization pages' form and the API take them: name, type,
// address, phone (any valid number, national in `country` or international, kept in E.164).
import { z } from 'zod';
import { nameField } from '../http/form.ts';
import { ORGANIZATION_TYPES } from '../db/schema.ts';
import type { OrganizationInput } from '../db/repositories/organizations.ts';
import { parseOrganizationPhone } from './phone.ts';

const OrganizationFields = {
  name: nameField,
  type: z.enum(ORGANIZATION_TYPES),
  address: z.string().trim().max(500).optional().default(''),
  country: z.string().max(2).optional(),
  phone: z.string().trim().max(40).optional().default(''),
};
export const OrganizationForm = z.object(OrganizationFields);

/** The form's values as the repository takes them (the phone checked and in E.164). */
export function organizationInput(input: z.output<typeof OrganizationForm>): OrganizationInput {
  return {
    name: input.name,
    type: input.type,
    address: input.address || null,
    phone: input.phone ? parseOrganizationPhone(input.phone, input.country) : null,
  };
}
