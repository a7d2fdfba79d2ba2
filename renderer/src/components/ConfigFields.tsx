// Inputs for one section of a run's configuration, built from its schema in the API contract: an enum is a select,
// a number an input with the schema's bounds, a boolean a checkbox, a discriminated union (schedule, KL annealing)
// a select of its kinds with the chosen kind's numbers. New settings in the engine appear here without form code.
import { z } from 'zod'
import { useTranslation } from 'react-i18next'

export type SectionValues = Record<string, unknown>

type Field = z.ZodType

function unwrap(field: Field): Field {
  let current = field
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current.unwrap() as Field
  return current
}

/** A number input's attributes from the schema's checks. */
function numberBounds(field: z.ZodNumber): { min?: number; max?: number; step: number | 'any' } {
  const min = Number.isFinite(field.minValue) ? (field.minValue as number) : undefined
  const max = Number.isFinite(field.maxValue) ? (field.maxValue as number) : undefined
  return { min, max, step: field.isInt ? 1 : 'any' }
}

/** Values a union member's numbers start at when the user switches to it (the schema has no defaults there). */
const unionStart: Record<string, number> = { warmup: 1000, dModel: 256, factor: 1, patience: 3, decay: 0.5, minLr: 1e-5, steps: 2000, cycleSteps: 1000, ramp: 0.5 }

interface Props {
  /** e.g. 'seq2seq', 'training': prefixes input names and test ids. */
  section: string
  schema: z.ZodObject<z.ZodRawShape>
  values: SectionValues
  onChange: (values: SectionValues) => void
  /** Only these fields, in this order (default: all). */
  only?: readonly string[]
  /** Leave these out. */
  except?: readonly string[]
}

export function ConfigFields({ section, schema, values, onChange, only, except = [] }: Props) {
  const { t } = useTranslation()
  const keys = (only ?? Object.keys(schema.shape)).filter((key) => !except.includes(key) && key in schema.shape)
  const label = (key: string) => t(`config.${key}`, { defaultValue: key })
  const set = (key: string, value: unknown) => onChange({ ...values, [key]: value })
  return (
    <>
      {keys.map((key) => {
        const field = unwrap(schema.shape[key] as Field)
        const id = `${section}-${key}`
        if (field instanceof z.ZodEnum) {
          return (
            <label key={key}>
              {label(key)}
              <select name={id} data-testid={id} value={String(values[key])} onChange={(event) => set(key, event.target.value)}>
                {(field.options as string[]).map((option) => (
                  <option key={option} value={option}>
                    {t(`config.option.${option}`, { defaultValue: option })}
                  </option>
                ))}
              </select>
            </label>
          )
        }
        if (field instanceof z.ZodNumber) {
          return (
            <label key={key}>
              {label(key)}
              <input name={id} data-testid={id} type="number" required {...numberBounds(field)} value={Number(values[key])} onChange={(event) => set(key, event.target.valueAsNumber)} />
            </label>
          )
        }
        if (field instanceof z.ZodBoolean) {
          return (
            <label key={key} className="check">
              <input name={id} data-testid={id} type="checkbox" checked={values[key] === true} onChange={(event) => set(key, event.target.checked)} />
              <span>{label(key)}</span>
            </label>
          )
        }
        if (field instanceof z.ZodDiscriminatedUnion || field instanceof z.ZodUnion) {
          return <UnionField key={key} id={id} label={label(key)} union={field as z.ZodUnion<z.ZodObject<z.ZodRawShape>[]>} value={values[key] as SectionValues} onChange={(value) => set(key, value)} />
        }
        return null
      })}
    </>
  )
}

function UnionField({ id, label, union, value, onChange }: { id: string; label: string; union: z.ZodUnion<z.ZodObject<z.ZodRawShape>[]>; value: SectionValues; onChange: (value: SectionValues) => void }) {
  const { t } = useTranslation()
  const kindOf = (member: z.ZodObject<z.ZodRawShape>) => String((member.shape.kind as z.ZodLiteral<string>).value)
  const members = union.options
  const current = members.find((member) => kindOf(member) === value.kind) ?? members[0]!
  const choose = (kind: string) => {
    const member = members.find((m) => kindOf(m) === kind)!
    const next: SectionValues = { kind }
    for (const key of Object.keys(member.shape)) if (key !== 'kind') next[key] = value[key] ?? unionStart[key] ?? 1
    onChange(next)
  }
  return (
    <fieldset className="union-field">
      <legend>{label}</legend>
      <select name={id} data-testid={id} value={kindOf(current)} onChange={(event) => choose(event.target.value)} aria-label={label}>
        {members.map((member) => (
          <option key={kindOf(member)} value={kindOf(member)}>
            {t(`config.option.${kindOf(member)}`, { defaultValue: kindOf(member) })}
          </option>
        ))}
      </select>
      <ConfigFields section={id} schema={current} values={value} onChange={onChange} except={['kind']} />
    </fieldset>
  )
}
