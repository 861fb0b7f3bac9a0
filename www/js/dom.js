// DOM building without innerHTML: every text from the API goes in as a
// text node, so a title can never become markup.

// h('a', {href: '#/', class: 'x'}, 'text', child, ...): attributes whose
// value is false, null or undefined are left out, true sets an empty one;
// on* attributes with a function value become listeners
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);

    for (const [name, value] of Object.entries(attrs || {})) {
        if (value === false || value === null || value === undefined) {
            continue;
        }

        if (name.startsWith('on') && typeof value === 'function') {
            el.addEventListener(name.slice(2), value);

        } else if (name === 'dataset') {
            Object.assign(el.dataset, value);

        } else if (name in el && typeof el[name] !== 'object'
                   && !name.includes('-') && name !== 'list') {
            el[name] = value;

        } else {
            el.setAttribute(name, value === true ? '' : value);
        }
    }

    append(el, children);
    return el;
}

function append(el, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) {
            continue;
        }

        if (Array.isArray(child)) {
            append(el, child);

        } else {
            el.append(child instanceof Node ? child : String(child));
        }
    }
}

export function clear(el) {
    el.replaceChildren();
    return el;
}

// a labelled <select>: options are [value, text] pairs
export function select(id, label, options, value) {
    const sel = h('select', {id, name: id},
        options.map(([v, text]) => h('option', {value: v}, text)));
    sel.value = value ?? '';
    return h('label', {class: 'field', for: id}, h('span', {}, label), sel);
}

// a message area screen readers announce; hidden while empty
export function alertBox(id) {
    return h('p', {id, class: 'error', role: 'alert', hidden: true});
}

export function say(box, text) {
    box.textContent = text || '';
    box.hidden = !text;
}

// the browser's clipboard where allowed (secure contexts), else a
// selection the user copies
export async function copyText(text, input) {
    try {
        await navigator.clipboard.writeText(text);
        return true;

    } catch {
        if (input) {
            input.focus();
            input.select();
        }

        return false;
    }
}
