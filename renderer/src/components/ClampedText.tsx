// Long text cut to a few lines (a dialogue context of long speeches), with a button to show all of it.
import { useLayoutEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'

export function ClampedText({ text }: { text: string }) {
  const { t } = useTranslation()
  const box = useRef<HTMLDivElement>(null)
  const [open, setOpen] = useState(false)
  const [overflows, setOverflows] = useState(false)
  useLayoutEffect(() => {
    const element = box.current
    if (element && !open) setOverflows(element.scrollHeight > element.clientHeight + 1)
  }, [text, open])
  return (
    <>
      <div ref={box} className={open ? undefined : 'clamp'}>
        {text}
      </div>
      {(overflows || open) && (
        <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? t('common.showLess') : t('common.showAll')}
        </button>
      )}
    </>
  )
}
